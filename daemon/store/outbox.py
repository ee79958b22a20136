"""Messages waiting to be sent: enqueued inside an effect's transaction, sent after commit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from daemon.store.database import execute, timestamp
from daemon.store.models import OutboxMessage


def enqueue(
    chat_id: int,
    text: str,
    now: datetime,
    parse_mode: str | None = "HTML",
    kind: str = "message",
    payload: dict[str, Any] | None = None,
) -> None:
    """Queue one call: a message (payload: reply_markup), a document (filename,
    content), an edit (message_id, reply_markup) or a callback answer (query id)."""
    execute(
        "INSERT INTO outbox_message"
        " (kind, chat_id, text, parse_mode, payload, created_at, attempts, dead)"
        " VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
        kind,
        chat_id,
        text,
        parse_mode,
        json.dumps(payload) if payload is not None else None,
        timestamp(now),
        False,
    )


@dataclass(frozen=True)
class QueuedCall:
    """One call waiting in the outbox, as the sender makes it."""

    id: int
    kind: str  # message, document, edit, answer
    chat_id: int
    text: str
    parse_mode: str | None
    payload: dict[str, Any]


def next_batch(limit: int = 50) -> list[QueuedCall]:
    rows = (
        OutboxMessage.select()
        .where(OutboxMessage.dead == False)  # noqa: E712 (peewee builds SQL from ==)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return [
        QueuedCall(
            row.id,
            row.kind,
            row.chat_id,
            row.text,
            row.parse_mode,
            json.loads(row.payload) if row.payload else {},
        )
        for row in rows
    ]


def delivered(message_ids: list[int]) -> None:
    if message_ids:
        OutboxMessage.delete().where(OutboxMessage.id.in_(message_ids)).execute()


def failed(message_id: int, error: str, dead: bool) -> None:
    OutboxMessage.update(
        attempts=OutboxMessage.attempts + 1, last_error=error[:500], dead=dead
    ).where(OutboxMessage.id == message_id).execute()


def fail_chat(chat_id: int, error: str) -> int:
    """Every call still queued for the chat becomes a dead letter; returns how many."""
    return int(
        OutboxMessage.update(attempts=OutboxMessage.attempts + 1, last_error=error[:500], dead=True)
        .where((OutboxMessage.chat_id == chat_id) & (OutboxMessage.dead == False))  # noqa: E712
        .execute()
    )


def backlog() -> int:
    return OutboxMessage.select().where(OutboxMessage.dead == False).count()  # noqa: E712


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
    # Aggregates come back as the stored text on SQLite.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def clear_dead_letters() -> int:
    return int(OutboxMessage.delete().where(OutboxMessage.dead == True).execute())  # noqa: E712


def prune_dead_letters(before: datetime) -> int:
    return int(
        OutboxMessage.delete()
        .where((OutboxMessage.dead == True) & (OutboxMessage.created_at < before))  # noqa: E712
        .execute()
    )
