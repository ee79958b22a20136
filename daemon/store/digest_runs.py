"""Digests sent, one row per period ("day:2026-11-28", "week:2026-W48")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from daemon.store.database import execute, read_timestamp, timestamp


@dataclass(frozen=True)
class DigestSent:
    period: str
    sent_at: datetime
    recipients: int


def find(period: str) -> DigestSent | None:
    row = execute("SELECT sent_at, recipients FROM digest_run WHERE period = ?", period).fetchone()
    if row is None:
        return None
    return DigestSent(period, read_timestamp(row[0]), int(row[1]))


def record(period: str, now: datetime, recipients: int) -> None:
    """Sent (again, with --force): the latest send is what counts."""
    execute(
        "INSERT INTO digest_run (period, sent_at, recipients) VALUES (?, ?, ?)"
        " ON CONFLICT (period) DO UPDATE SET sent_at = excluded.sent_at,"
        " recipients = excluded.recipients",
        period,
        timestamp(now),
        recipients,
    )
