"""Admin /status (what the daemon is doing) and /health (a verdict per component)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from daemon import guard
from daemon.cluster.facts import cluster_health, cluster_rows
from daemon.commands.registry import Command, CommandCall, Registry, Role, Services
from daemon.config import Settings
from daemon.reply import Reply
from daemon.store import events, named_values, outbox
from daemon.store.database import sqlite_path
from daemon.vitals import format_age, format_duration

DISK_LOW_BYTES = 200 * 1024 * 1024
BACKLOG_HIGH = 100
# A dead letter younger than this keeps /health at WARN; older ones are only mentioned
# (they age out under [retention] dead_letters, or `tradebotd db clear-dead-letters`).
DEAD_LETTER_FRESH = timedelta(days=1)
CLEAR_DEAD_LETTERS = "tradebotd db clear-dead-letters"
HEALTH_PROBE_KEY = "health.probe"


def database_bytes(services: Services) -> int | None:
    path = sqlite_path(services.settings().database_url)
    if path is None:
        return None
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def format_bytes(size: int | None) -> str:
    if size is None:
        return "n/a (not SQLite)"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


async def status(call: CommandCall, services: Services) -> Reply:
    s = services.vitals.snapshot(services.monotonic())
    day_ago = call.now - timedelta(days=1)
    restarts = max(0, events.count_since("start", day_ago) - 1)
    episodes = events.count_since("conflict", day_ago)
    return Reply(
        title=f"tradebotd {s.version}",
        rows=(
            ("uptime", format_duration(s.uptime)),
            ("mode", s.mode),
            ("state", s.state),
            ("offset", str(s.offset)),
            ("last poll", format_age(s.last_poll_age)),
            ("updates handled", str(s.updates_handled)),
            ("conflicts", f"{s.conflicts} since start, {episodes} episodes in 24h"),
            ("restarts (24h)", str(restarts)),
            (
                "outbox",
                f"{outbox.backlog()} waiting, {outbox.dead_letter_summary().count} dead letters",
            ),
            ("database", format_bytes(database_bytes(services))),
            *(cluster_rows(services.settings()) or ()),
            *services.component_facts(),
        ),
    )


@dataclass(frozen=True)
class HealthFacts:
    polling_enabled: bool
    poll_alive: bool
    in_conflict: bool
    last_poll_age: float | None
    database_ok: bool
    backlog: int
    dead_letters: outbox.DeadLetters
    disk_free: int
    watchdog_interval: float | None
    watchdog_pings: int
    lock_pid: int | None
    own_pid: int
    now: datetime


def _outbox_verdict(f: HealthFacts) -> str:
    dead = f.dead_letters
    waiting = f"{f.backlog} waiting"
    if not dead.count or dead.oldest is None or dead.newest is None:
        return ("WARN: " if f.backlog > BACKLOG_HIGH else "ok: ") + f"{waiting}, 0 dead letters"
    fresh = f.now - dead.newest < DEAD_LETTER_FRESH
    verdict = "WARN" if fresh or f.backlog > BACKLOG_HIGH else "ok"
    return (
        f"{verdict}: {waiting}, {dead.count} dead letters since {dead.oldest:%Y-%m-%d %H:%M} UTC"
        f" (newest {dead.newest:%Y-%m-%d %H:%M}); see /logs, then clear them with"
        f" `{CLEAR_DEAD_LETTERS}`"
    )


def assess(f: HealthFacts) -> list[tuple[str, str]]:
    """(component, "ok|WARN|FAIL: detail") lines. Pure."""
    if not f.polling_enabled:
        polling = "ok: not polling (POLLING_ENABLED is not 1)"
    elif f.in_conflict:
        polling = "FAIL: another poller holds the token (409 Conflict)"
    elif not f.poll_alive:
        polling = f"FAIL: no poll answered for {format_age(f.last_poll_age)}"
    else:
        polling = f"ok: last poll {format_age(f.last_poll_age)} ago"
    disk = f"{f.disk_free / 1024**3:.1f} GB free in the state directory"
    watchdog = (
        f"ok: WatchdogSec={f.watchdog_interval * 2:g}s, {f.watchdog_pings} pings"
        if f.watchdog_interval
        else "WARN: not enabled (no WatchdogSec=)"
    )
    lock = (
        f"ok: held by this process (pid {f.own_pid})"
        if f.lock_pid == f.own_pid
        else f"FAIL: lock file names pid {f.lock_pid}"
    )
    return [
        ("telegram polling", polling),
        ("database", "ok: write and read back" if f.database_ok else "FAIL: write/read probe"),
        ("outbox", _outbox_verdict(f)),
        ("disk", ("WARN: " if f.disk_free < DISK_LOW_BYTES else "ok: ") + disk),
        ("watchdog", watchdog),
        ("lock", lock),
    ]


def _probe_database(call: CommandCall) -> bool:
    # Inside the update's transaction: the probe commits with it, never half-written.
    stamp = call.now.isoformat()
    named_values.put(HEALTH_PROBE_KEY, stamp)
    return named_values.get(HEALTH_PROBE_KEY) == stamp


async def health(call: CommandCall, services: Services) -> Reply:
    vitals, now = services.vitals, services.monotonic()
    settings = services.settings()
    facts = HealthFacts(
        polling_enabled=vitals.polling_enabled,
        poll_alive=vitals.liveness.healthy(now),
        in_conflict=vitals.conflicts.in_conflict,
        last_poll_age=vitals.liveness.last_answer_age(now),
        database_ok=_probe_database(call),
        backlog=outbox.backlog(),
        dead_letters=outbox.dead_letter_summary(),
        disk_free=shutil.disk_usage(settings.state_directory).free,
        watchdog_interval=services.watchdog_interval,
        watchdog_pings=services.watchdog_pings(),
        lock_pid=guard.read_pid(services.lock_path) if services.lock_path else None,
        own_pid=os.getpid(),
        now=call.now,
    )
    return Reply(
        title="Health",
        rows=(*assess(facts), *cluster_health(settings), *services.component_health()),
    )


def check_status(settings: Settings) -> None:
    """The reads /status makes, without a running daemon's vitals."""
    events.count_since("start", datetime(1970, 1, 1))
    outbox.backlog()
    outbox.dead_letter_summary()


def check_health(settings: Settings) -> None:
    """The reads and the verdicts /health makes; its write probe is left out."""
    outbox.backlog()
    shutil.disk_usage(settings.state_directory)
    now = datetime(1970, 1, 1)
    assess(
        HealthFacts(
            True,
            True,
            False,
            0.0,
            True,
            0,
            outbox.dead_letter_summary(),
            1 << 30,
            None,
            0,
            os.getpid(),
            os.getpid(),
            now,
        )
    )


def register(registry: Registry) -> None:
    registry.add(
        Command(
            "status",
            Role.ADMIN,
            "",
            "uptime, mode, offset, last poll, conflicts, restarts, outbox, DB size",
            status,
            group="ops",
            self_check=check_status,
        )
    )
    registry.add(
        Command(
            "health",
            Role.ADMIN,
            "",
            "a verdict per component",
            health,
            group="ops",
            self_check=check_health,
        )
    )
