"""Admin /status and /health against a running daemon; the health verdicts (pure)."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import datetime

from daemon.commands.status import HealthFacts, assess, format_bytes
from daemon.emulator.client import BotControl
from daemon.store.outbox import DeadLetters
from tests.commands.conftest import ADMIN, ask
from tests.support.processes import DaemonProcess, Launch, NotifySocket


def test_status_reports_the_loop_restarts_outbox_and_database(
    bot: BotControl, daemon: DaemonProcess
) -> None:
    text = ask(bot, ADMIN, "/status")
    assert text.startswith("tradebotd 0.1.0\n")
    for row in (
        "mode — polling",
        "state — polling",
        "conflicts — 0 since start, 0 episodes in 24h",
        "restarts (24h) — 0",
        "outbox — ",
        "notifications — dead=0 throttled=0",  # a component's facts
    ):
        assert row in text
    assert re.search(r"offset — \d+", text)
    assert re.search(r"database — \d+\.\d KB", text)


def test_health_gives_a_verdict_per_component(
    bot: BotControl, launch: Launch, notify_socket: NotifySocket
) -> None:
    bot.set_flood(enabled=False)
    daemon = launch(
        admin_ids=str(ADMIN),
        env={"NOTIFY_SOCKET": str(notify_socket.path), "WATCHDOG_USEC": "4000000"},
    )
    lines = ask(bot, ADMIN, "/health").split("\n")
    assert lines[0] == "Health"
    verdicts = dict(line.split(" — ", 1) for line in lines[1:])
    assert list(verdicts) == [
        "telegram polling",
        "database",
        "outbox",
        "disk",
        "watchdog",
        "lock",
        # then one verdict per running component that has its own
        "notifications",
        "heartbeat",
        "menus",
    ]
    assert verdicts["telegram polling"].startswith("ok: last poll ")
    assert verdicts["database"] == "ok: write and read back"
    assert verdicts["watchdog"].startswith("ok: WatchdogSec=4s, ")
    assert verdicts["lock"] == f"ok: held by this process (pid {daemon.pid})"
    assert verdicts["notifications"].startswith("ok: 0 waiting, ")
    assert verdicts["heartbeat"] == "ok: a beat every 1s"
    # The admin never opened a chat with the bot, so Telegram refused their menu.
    assert verdicts["menus"] == (
        "WARN: the admin menu is not set for 1 of 1 admins "
        "(they must open a chat with the bot first)"
    )


FACTS = HealthFacts(
    polling_enabled=True,
    poll_alive=True,
    in_conflict=False,
    last_poll_age=1.5,
    database_ok=True,
    backlog=0,
    dead_letters=DeadLetters(0, None, None),
    disk_free=10 * 1024**3,
    watchdog_interval=45.0,
    watchdog_pings=3,
    lock_pid=os.getpid(),
    own_pid=os.getpid(),
    now=datetime(2026, 11, 29, 12, 0),
)


def test_assess_flags_each_failure_it_knows() -> None:
    healthy = dict(assess(FACTS))
    assert all(v.startswith("ok") for v in healthy.values()), healthy
    bad = dict(
        assess(
            FACTS.__class__(
                **{
                    **FACTS.__dict__,
                    "in_conflict": True,
                    "database_ok": False,
                    "dead_letters": DeadLetters(
                        2, datetime(2026, 11, 27, 8, 0), datetime(2026, 11, 29, 9, 30)
                    ),
                    "disk_free": 10,
                    "watchdog_interval": None,
                    "lock_pid": 1,
                }
            )
        )
    )
    assert bad["telegram polling"] == "FAIL: another poller holds the token (409 Conflict)"
    assert bad["database"] == "FAIL: write/read probe"
    assert bad["outbox"] == (
        "WARN: 0 waiting, 2 dead letters since 2026-11-27 08:00 UTC (newest 2026-11-29 09:30);"
        " see /logs, then clear them with `tradebotd db clear-dead-letters`"
    )
    assert bad["disk"].startswith("WARN: ")
    assert bad["watchdog"] == "WARN: not enabled (no WatchdogSec=)"
    assert bad["lock"] == "FAIL: lock file names pid 1"
    stalled = dict(assess(FACTS.__class__(**{**FACTS.__dict__, "poll_alive": False})))
    assert stalled["telegram polling"] == "FAIL: no poll answered for 1.5s"


def test_old_dead_letters_do_not_keep_health_at_warn_forever() -> None:
    """One dead letter from days ago is mentioned, with how to clear it, but is ok."""
    old = DeadLetters(1, datetime(2026, 11, 20, 8, 0), datetime(2026, 11, 20, 8, 0))
    verdict = dict(assess(replace(FACTS, dead_letters=old)))["outbox"]
    assert verdict == (
        "ok: 0 waiting, 1 dead letters since 2026-11-20 08:00 UTC (newest 2026-11-20 08:00);"
        " see /logs, then clear them with `tradebotd db clear-dead-letters`"
    )


def test_byte_sizes_read_well() -> None:
    assert [format_bytes(n) for n in (512, 2048, 5 * 1024**2, None)] == [
        "512 B",
        "2.0 KB",
        "5.0 MB",
        "n/a (not SQLite)",
    ]
