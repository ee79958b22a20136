"""Messages waiting to be sent: enqueued inside an effect's transaction, sent after commit."""

from __future__ import annotations

import json
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


def next_batch(limit: int = 50) -> list[OutboxMessage]:
    return list(
        OutboxMessage.select()
        .where(OutboxMessage.dead == False)  # noqa: E712 (peewee builds SQL from ==)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )


def delivered(message_ids: list[int]) -> None:
    if message_ids:
        OutboxMessage.delete().where(OutboxMessage.id.in_(message_ids)).execute()


def failed(message_id: int, error: str, dead: bool) -> None:
    OutboxMessage.update(
        attempts=OutboxMessage.attempts + 1, last_error=error[:500], dead=dead
    ).where(OutboxMessage.id == message_id).execute()


def backlog() -> int:
    return OutboxMessage.select().where(OutboxMessage.dead == False).count()  # noqa: E712


def dead_letters() -> int:
    return OutboxMessage.select().where(OutboxMessage.dead == True).count()  # noqa: E712
