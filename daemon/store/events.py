"""Lifecycle events and small named facts (last heartbeat)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from daemon.store import named_values
from daemon.store.database import EVENT_LOG, execute, serialize_writers, timestamp
from daemon.store.models import Event


@dataclass(frozen=True)
class EventRecord:
    kind: str
    at: datetime
    detail: str


def _record(row: Event | None) -> EventRecord | None:
    return None if row is None else EventRecord(row.kind, row.at, row.detail)


HEARTBEAT_KEY = "heartbeat.last"
UNCLEAN = "after an unclean exit"


def record(kind: str, now: datetime, detail: str = "") -> None:
    # The alert router reads the log by id: ids must become visible in order, which on
    # PostgreSQL (several writers in a cluster) takes one writer at a time.
    serialize_writers(EVENT_LOG)
    # Hand-written: every paper fill records one, inside its transaction.
    execute("INSERT INTO event (at, kind, detail) VALUES (?, ?, ?)", timestamp(now), kind, detail)


def count_since(kind: str, since: datetime) -> int:
    return int(Event.select().where(Event.kind == kind, Event.at >= since).count())


def latest() -> EventRecord | None:
    return _record(Event.select().order_by(Event.id.desc()).first())


def of_kind_since(kind: str, since: datetime) -> list[EventRecord]:
    """The events of a kind since `since`, oldest first (fills, AutoSell executions)."""
    rows = Event.select().where(Event.kind == kind, Event.at >= since).order_by(Event.id)
    return [EventRecord(row.kind, row.at, row.detail) for row in rows]


def after(event_id: int, kinds: tuple[str, ...], limit: int = 500) -> list[tuple[int, EventRecord]]:
    """The events of these kinds after `event_id`, oldest first, with their ids (the
    alert router's tail of the log)."""
    rows = (
        Event.select()
        .where(Event.id > event_id, Event.kind.in_(kinds))
        .order_by(Event.id)
        .limit(limit)
    )
    return [(row.id, EventRecord(row.kind, row.at, row.detail)) for row in rows]


def last_id() -> int:
    row = Event.select(Event.id).order_by(Event.id.desc()).first()
    return 0 if row is None else int(row.id)


def last_of_kind(kind: str) -> EventRecord | None:
    return _record(Event.select().where(Event.kind == kind).order_by(Event.id.desc()).first())


def starts_since(since: datetime) -> tuple[int, int]:
    """(starts, of them after an unclean exit) since `since`."""
    starts = Event.select().where(Event.kind == "start", Event.at >= since)
    # "after an unclean exit", or "node a, after an unclean exit" in a cluster
    unclean = starts.where(Event.detail.endswith(UNCLEAN))
    return int(starts.count()), int(unclean.count())


def prune(before: datetime) -> int:
    """Forget events older than `before`, but never the newest (it says how the last run
    ended)."""
    newest = Event.select(Event.id).order_by(Event.id.desc()).first()
    keep = newest.id if newest is not None else 0
    return int(Event.delete().where((Event.at < before) & (Event.id != keep)).execute())


def set_heartbeat(now: datetime) -> None:
    named_values.put(HEARTBEAT_KEY, now.isoformat())


def last_heartbeat() -> datetime | None:
    value = named_values.get(HEARTBEAT_KEY)
    return datetime.fromisoformat(value) if value is not None else None
