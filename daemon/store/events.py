"""Lifecycle events and small named facts (last heartbeat)."""

from __future__ import annotations

from datetime import datetime

from daemon.store import named_values
from daemon.store.models import Event

HEARTBEAT_KEY = "heartbeat.last"


def record(kind: str, now: datetime, detail: str = "") -> None:
    Event.insert(at=now, kind=kind, detail=detail).execute()


def count_since(kind: str, since: datetime) -> int:
    return Event.select().where(Event.kind == kind, Event.at >= since).count()


def last(kind: str) -> Event | None:
    return Event.select().where(Event.kind == kind).order_by(Event.id.desc()).first()


def latest() -> Event | None:
    return Event.select().order_by(Event.id.desc()).first()


def prune(before: datetime) -> int:
    """Forget events older than `before`, but never the newest (it says how the last run
    ended)."""
    newest = latest()
    keep = newest.id if newest is not None else 0
    return Event.delete().where((Event.at < before) & (Event.id != keep)).execute()


def set_heartbeat(now: datetime) -> None:
    named_values.put(HEARTBEAT_KEY, now.isoformat())


def last_heartbeat() -> datetime | None:
    value = named_values.get(HEARTBEAT_KEY)
    return datetime.fromisoformat(value) if value is not None else None
