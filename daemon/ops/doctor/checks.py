"""The doctor's verdicts: each a pure function from facts to a Check."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from daemon.policy.liveness import heartbeat_stale_after
from daemon.vitals import rough_age


class Level(StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    detail: str
    fix: str | None = None  # the command (or step) that fixes it, for WARN and FAIL

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "level": self.level.value}


def ok(name: str, detail: str) -> Check:
    return Check(name, Level.OK, detail)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(name, Level.WARN, detail, fix)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, Level.FAIL, detail, fix)


RESTART = "systemctl restart tradebotd (supervisorctl restart tradebotd without systemd)"


def webhook_verdict(info: dict[str, Any], polling: bool, own_url: str | None) -> Check:
    """getWebhookInfo's answer against how this daemon receives updates."""
    url = str(info.get("url") or "")
    pending = int(info.get("pending_update_count") or 0)
    error = info.get("last_error_message")
    if polling and url:
        return fail(
            "webhook",
            f"a webhook is set ({url}) while this daemon polls: getUpdates gets 409 Conflict "
            f"({pending} updates pending)",
            f"find who set it (another deployment of this token); then {RESTART} "
            "(the daemon deletes the webhook before polling)",
        )
    if not polling and own_url and url != own_url:
        return fail(
            "webhook",
            f"the webhook is {url or 'not set'}, not this daemon's {own_url}",
            RESTART + " (the daemon sets its webhook at start)",
        )
    if error:
        return warn(
            "webhook",
            f"Telegram's last delivery error: {error} ({pending} updates pending)",
            "check the reverse proxy and TLS certificate in front of the webhook",
        )
    mode = f"set to {url}" if url else "none (polling)"
    return ok("webhook", f"{mode}; {pending} updates pending")


def heartbeat_verdict(
    last: datetime | None, now: datetime, interval: float, running: bool
) -> Check:
    """The daemon's last heartbeat (stored each interval) against the clock."""
    if last is None:
        return warn("heartbeat", "none recorded yet", "systemctl start tradebotd")
    age = (now - last).total_seconds()
    said = f"last {rough_age(age)} ago (every {interval:g}s expected)"
    if age <= heartbeat_stale_after(interval):
        return ok("heartbeat", said)
    if running:
        return fail(
            "heartbeat",
            said + ": the daemon holds the lock but its heartbeat stopped; the poller looks stuck",
            f"journalctl -u tradebotd -n 100, then {RESTART}",
        )
    return warn("heartbeat", said + " (the daemon is not running)", "systemctl start tradebotd")


def disk_verdict(free: int, total: int, where: str) -> Check:
    share = free / total if total else 0.0
    said = f"{free / 2**30:.1f} GiB free of {total / 2**30:.1f} GiB ({share:.0%}) at {where}"
    fix = f"free space on the filesystem of {where} (journalctl --vacuum-size=200M, old backups)"
    if free < 100 * 2**20:
        return fail("disk", said + ": SQLite cannot commit when the disk fills", fix)
    if free < 2**30 or share < 0.05:
        return warn("disk", said, fix)
    return ok("disk", said)


def schema_verdict(found: int, latest: int) -> Check:
    if found == 0:
        return warn("schema", "the database is empty", "systemctl start tradebotd (it creates it)")
    if found < latest:
        return warn(
            "schema",
            f"version {found}; this tradebotd uses {latest}",
            "tradebotd db upgrade (the daemon also upgrades at start)",
        )
    if found > latest:
        return fail(
            "schema",
            f"version {found} is newer than this tradebotd's {latest}: written by a newer one",
            "install the newer tradebotd again (make upgrade), or restore an older backup",
        )
    return ok("schema", f"version {found}")


def quotes_verdict(ages: dict[str, float], max_ages: dict[str, float]) -> Check:
    """Stored quotes (the feed writes each it keeps) against each symbol's max age."""
    if not max_ages:
        return ok("prices", "no symbols configured")
    missing = sorted(set(max_ages) - set(ages))
    stale = sorted(s for s, age in ages.items() if s in max_ages and age > max_ages[s])
    if missing or stale:
        parts = [f"{s} stale ({rough_age(ages[s])} old)" for s in stale]
        parts += [f"{s} never seen" for s in missing]
        return warn(
            "prices",
            "; ".join(parts),
            "check [prices] sources and the host's network; /health shows the feed",
        )
    return ok("prices", f"{len(max_ages)} symbols fresh")


def outbox_verdict(backlog: int, dead: int, oldest_dead: datetime | None, now: datetime) -> Check:
    said = f"{backlog} waiting, {dead} dead letters"
    if dead:
        since = (
            f" (oldest {rough_age((now - oldest_dead).total_seconds())} ago)" if oldest_dead else ""
        )
        return warn(
            "outbox",
            said + since,
            "read why with /logs, then tradebotd db clear-dead-letters",
        )
    if backlog > 1000:
        return warn("outbox", said + ": a large backlog", "see /health for flood control")
    return ok("outbox", said)


BACKUP_FIX = "tradebotd backup (docs/operations.md: a timer can take one daily)"
BACKUP_OLD_AFTER = 7 * 86400


def backup_verdict(last: datetime | None, path: str | None, now: datetime) -> Check:
    if last is None:
        return warn("backup", "none taken", BACKUP_FIX)
    age = (now - last).total_seconds()
    said = f"last {rough_age(age)} ago, {path}"
    if age > BACKUP_OLD_AFTER:
        return warn("backup", said, BACKUP_FIX)
    return ok("backup", said)
