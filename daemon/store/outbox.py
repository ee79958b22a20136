"""The notification queue: items enqueued inside an effect's transaction, delivered after
commit by the sender (daemon/notify/sender.py), deleted once their receiver accepted them.

Each item names its receiver, a priority and optionally a dedup key. A receiver's items
are due oldest first, and only while its oldest is (`runs`): order within one chat holds,
while a receiver that is failing or paused holds up nobody else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from daemon.store.database import execute, read_timestamp, timestamp
from daemon.store.models import OutboxMessage

TELEGRAM = "telegram"
MAX_ERROR = 500


class Priority(IntEnum):
    """Lower goes first: operators before the public, replies before alerts before bulk."""

    ADMIN_REPLY = 0
    REPLY = 1
    ALERT = 2
    BULK = 3


@dataclass(frozen=True)
class Receiver:
    """Where an item goes: a Telegram chat, or a named receiver of another transport."""

    kind: str = TELEGRAM
    chat_id: int = 0
    name: str = ""

    @classmethod
    def chat(cls, chat_id: int) -> Receiver:
        return cls(TELEGRAM, chat_id)

    @classmethod
    def username(cls, name: str) -> Receiver:
        """A public channel or group by its @username (alert receivers may name one)."""
        return cls(TELEGRAM, 0, name)

    @property
    def is_group(self) -> bool:
        # Telegram's group, supergroup and channel ids are negative; a @username is one.
        return self.kind == TELEGRAM and (self.chat_id < 0 or self.name.startswith("@"))

    @property
    def telegram_chat(self) -> int | str:
        """What the Bot API's chat_id takes: the id, or the @username."""
        return self.name or self.chat_id

    def __str__(self) -> str:
        if self.kind == TELEGRAM:
            return f"chat {self.name or self.chat_id}"
        return f"{self.kind}:{self.name}"


def enqueue(
    receiver: Receiver,
    text: str,
    now: datetime,
    *,
    priority: Priority,
    parse_mode: str | None = "HTML",
    kind: str = "message",
    payload: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> int | None:
    """Queue one call: a message (payload: reply_markup), a document (filename, content),
    a photo or document rendered at delivery (filename, render, args),
    an edit (message_id, reply_markup) or a callback answer (query id); returns its id.
    None when an item with the same `dedup_key` is pending: nothing is added (a key holds
    while its item waits, not after it was delivered or became a dead letter)."""
    row = execute(
        "INSERT INTO outbox_message"
        " (kind, receiver_kind, chat_id, receiver_name, text, parse_mode, payload, priority,"
        " dedup_key, created_at, attempts, dead)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT DO NOTHING RETURNING id",
        kind,
        receiver.kind,
        receiver.chat_id,
        receiver.name,
        text,
        parse_mode,
        json.dumps(payload) if payload is not None else None,
        int(priority),
        dedup_key,
        timestamp(now),
        False,
    ).fetchone()
    return int(row[0]) if row else None


@dataclass(frozen=True)
class QueuedCall:
    """One item waiting in the queue, as a transport delivers it."""

    id: int
    kind: str  # message, document, edit, answer
    receiver: Receiver
    text: str
    parse_mode: str | None
    payload: dict[str, Any]
    priority: Priority
    attempts: int
    created_at: datetime

    @property
    def chat_id(self) -> int:
        return self.receiver.chat_id


_RUNS = (
    "SELECT id, kind, receiver_kind, chat_id, receiver_name, text, parse_mode, payload,"
    " priority, attempts, created_at FROM ("
    "  SELECT o.*,"
    "   row_number() OVER receiver_order AS place,"
    "   first_value(o.id) OVER receiver_order AS head_id,"
    "   first_value(o.priority) OVER receiver_order AS head_priority,"
    "   first_value(o.next_attempt_at) OVER receiver_order AS head_retry"
    "  FROM outbox_message o WHERE o.dead = ?"
    "  WINDOW receiver_order AS (PARTITION BY o.receiver_kind, o.chat_id, o.receiver_name"
    "   ORDER BY o.id)"
    " ) q"
    " WHERE place <= ? AND (head_retry IS NULL OR head_retry <= ?)"
    " ORDER BY head_priority, head_id, place LIMIT ?"
)


def runs(now: datetime, receivers: int, depth: int) -> list[list[QueuedCall]]:
    """For up to `receivers` receivers whose oldest item is due, their oldest `depth`
    items in order; receivers most urgent first (by their oldest item's priority)."""
    rows = execute(_RUNS, False, depth, timestamp(now), receivers * depth).fetchall()
    grouped: dict[Receiver, list[QueuedCall]] = {}
    for row in rows:
        call = QueuedCall(
            id=row[0],
            kind=row[1],
            receiver=Receiver(row[2], row[3], row[4]),
            text=row[5],
            parse_mode=row[6],
            payload=json.loads(row[7]) if row[7] else {},
            priority=Priority(row[8]),
            attempts=row[9],
            created_at=_as_datetime(row[10]) or now,
        )
        grouped.setdefault(call.receiver, []).append(call)
    return list(grouped.values())


def next_retry_at() -> datetime | None:
    """When the earliest item waiting out a temporary failure is due."""
    (at,) = execute(
        "SELECT min(next_attempt_at) FROM outbox_message WHERE dead = ?", False
    ).fetchone()
    return _as_datetime(at)


def delivered(message_ids: list[int]) -> None:
    if message_ids:
        OutboxMessage.delete().where(OutboxMessage.id.in_(message_ids)).execute()


def retry_later(message_id: int, error: str, at: datetime) -> None:
    OutboxMessage.update(
        attempts=OutboxMessage.attempts + 1, last_error=error[:MAX_ERROR], next_attempt_at=at
    ).where(OutboxMessage.id == message_id).execute()


def _dead(error: str) -> dict[Any, Any]:
    # A dead letter releases its dedup key: the same notification may be queued again.
    return {
        OutboxMessage.attempts: OutboxMessage.attempts + 1,
        OutboxMessage.last_error: error[:MAX_ERROR],
        OutboxMessage.dead: True,
        OutboxMessage.dedup_key: None,
    }


def failed(message_id: int, error: str) -> None:
    """The item becomes a dead letter (kept for `[retention] dead_letters`)."""
    OutboxMessage.update(_dead(error)).where(OutboxMessage.id == message_id).execute()


def fail_receiver(receiver: Receiver, error: str) -> int:
    """Every item still queued for the receiver becomes a dead letter; returns how many."""
    return int(
        OutboxMessage.update(_dead(error))
        .where(
            (OutboxMessage.receiver_kind == receiver.kind)
            & (OutboxMessage.chat_id == receiver.chat_id)
            & (OutboxMessage.receiver_name == receiver.name)
            & (OutboxMessage.dead == False)  # noqa: E712 (peewee builds SQL from ==)
        )
        .execute()
    )


@dataclass(frozen=True)
class Fates:
    """What became of some queued items: the rest were delivered (and deleted)."""

    pending: int
    dead: int


def fates(message_ids: list[int]) -> Fates:
    if not message_ids:
        return Fates(0, 0)
    rows = OutboxMessage.select(OutboxMessage.dead).where(OutboxMessage.id.in_(message_ids))
    dead = [row.dead for row in rows]
    return Fates(pending=dead.count(False), dead=dead.count(True))


def backlog() -> int:
    return OutboxMessage.select().where(OutboxMessage.dead == False).count()  # noqa: E712


def by_receiver() -> dict[Receiver, Fates]:
    """What waits and what is dead, per receiver (for /routes)."""
    rows = execute(
        "SELECT receiver_kind, chat_id, receiver_name, dead, count(*) FROM outbox_message"
        " GROUP BY receiver_kind, chat_id, receiver_name, dead"
    ).fetchall()
    counts: dict[Receiver, Fates] = {}
    for kind, chat_id, name, dead, count in rows:
        receiver = Receiver(str(kind), int(chat_id or 0), str(name or ""))
        before = counts.get(receiver, Fates(0, 0))
        counts[receiver] = (Fates(before.pending, before.dead + int(count)) if dead
                            else Fates(before.pending + int(count), before.dead))  # fmt: skip
    return counts


@dataclass(frozen=True)
class DeadLetters:
    count: int
    oldest: datetime | None  # when the oldest one was queued
    newest: datetime | None


def dead_letter_summary() -> DeadLetters:
    count, oldest, newest = execute(
        "SELECT count(*), min(created_at), max(created_at) FROM outbox_message WHERE dead = ?",
        True,
    ).fetchone()
    return DeadLetters(int(count), _as_datetime(oldest), _as_datetime(newest))


def _as_datetime(value: datetime | str | None) -> datetime | None:
    return None if value is None else read_timestamp(value)


def clear_dead_letters() -> int:
    return int(OutboxMessage.delete().where(OutboxMessage.dead == True).execute())  # noqa: E712


def prune_dead_letters(before: datetime) -> int:
    return int(
        OutboxMessage.delete()
        .where((OutboxMessage.dead == True) & (OutboxMessage.created_at < before))  # noqa: E712
        .execute()
    )
