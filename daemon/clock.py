"""The wall clock as the store keeps time: naive UTC datetimes (portable between SQLite
and PostgreSQL). Passed in wherever time is read, so tests can swap it."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
