"""The doctor's facts from the database, opened read-only: integrity, schema, the books,
the last heartbeat, stored quotes, the outbox, the last backup."""

from __future__ import annotations

from datetime import datetime

from daemon.cluster import report
from daemon.config import Settings
from daemon.ops.doctor.checks import (
    Check,
    Level,
    backup_verdict,
    fail,
    heartbeat_verdict,
    ok,
    outbox_verdict,
    quotes_verdict,
    schema_verdict,
    warn,
)
from daemon.store import backups, cluster, events, outbox, quotes, schema
from daemon.store.copies import integrity_problems
from daemon.store.database import Database, StoreError, open_read_only, sqlite_path
from daemon.trading.books import LEDGER_SCHEMA, audit_store

RESTORE_FIX = "systemctl stop tradebotd; tradebotd restore BACKUP (docs/operations.md)"


def integrity_check(url: str) -> Check:
    problems = integrity_problems(url)
    if problems:
        return fail("database", f"integrity_check: {'; '.join(problems[:3])}", RESTORE_FIX)
    path = sqlite_path(url)
    return ok("database", f"{path}: integrity ok" if path else "PostgreSQL answers")


def store_checks(settings: Settings, now: datetime, daemon_running: bool) -> list[Check]:
    url = settings.database_url
    try:
        db = open_read_only(url)
    except FileNotFoundError as exc:
        return [warn("database", str(exc) + " yet", "systemctl start tradebotd (it creates it)")]
    except StoreError as exc:
        return [fail("database", f"cannot open: {exc}", "check DATABASE_URL and the server")]
    try:
        return _checks(settings, url, db, now, daemon_running)
    except StoreError as exc:
        where = sqlite_path(url) or "the database"
        return [fail("database", f"{where}: {exc}", RESTORE_FIX)]
    finally:
        db.close()


def _checks(
    settings: Settings, url: str, db: Database, now: datetime, running: bool
) -> list[Check]:
    checks = [integrity_check(url)]
    if checks[0].level is Level.FAIL:
        return checks
    version = schema.current_version(db)
    checks.append(schema_verdict(version, schema.latest_version()))
    if version == 0:
        return checks
    checks.append(
        heartbeat_verdict(events.last_heartbeat(), now, settings.heartbeat_interval, running)
    )
    if settings.ha.enabled and version >= CLUSTER_SCHEMA:
        checks.append(cluster_check(settings))
    if version >= LEDGER_SCHEMA:  # the books exist from this version on
        checks.append(ledger_check(settings))
        prices = settings.section("prices")
        ages = {q.symbol: (now - q.received_at).total_seconds() for q in quotes.load()}
        checks.append(quotes_verdict(ages, prices.max_ages()))
    dead = outbox.dead_letter_summary()
    checks.append(outbox_verdict(outbox.backlog(), dead.count, dead.oldest, now))
    backup = backups.last()
    checks.append(
        backup_verdict(backup.at if backup else None, backup.path if backup else None, now)
    )
    return checks


CLUSTER_SCHEMA = 9  # the lease and the node list exist from this version on
CLUSTER_FIX = {
    "FAIL": "systemctl start tradebotd on a node; journalctl -u tradebotd (docs/ha.md)",
    "WARN": "journalctl -u tradebotd on the node named (docs/ha.md)",
}


def cluster_check(settings: Settings) -> Check:
    found = report.verdict(cluster.view(), settings.ha.lease, settings.ha.node)
    if found.level == "ok":
        return ok("cluster", found.text)
    make = fail if found.level == "FAIL" else warn
    return make("cluster", found.text, CLUSTER_FIX[found.level])


def ledger_check(settings: Settings) -> Check:
    report = audit_store(settings.section("paper").quote)
    if report.clean:
        return ok("ledger", report.summary)
    return fail(
        "ledger",
        f"{report.summary}: {report.problems[0]}",
        "tradebotd ledger check (lists them all); restore the last good backup",
    )
