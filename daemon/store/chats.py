"""Chats that talked to the bot, and commands run per day."""

from __future__ import annotations

from datetime import datetime

from daemon.store import stats
from daemon.store.database import execute, timestamp


def record_start(chat_id: int, kind: str, name: str, now: datetime) -> int:
    """Count a /start from this chat; returns how many it has sent in all."""
    row = execute(
        "INSERT INTO known_chat (chat_id, kind, name, first_seen, last_seen, starts)"
        " VALUES (?, ?, ?, ?, ?, 1)"
        " ON CONFLICT (chat_id) DO UPDATE SET starts = known_chat.starts + 1,"
        " last_seen = excluded.last_seen, name = excluded.name"
        " RETURNING starts",
        chat_id,
        kind,
        name,
        timestamp(now),
        timestamp(now),
    ).fetchone()
    return int(row[0])


def is_known(chat_id: int) -> bool:
    """True once the chat has sent /start (for a user: the private chat with the bot
    exists, so the bot may write to it)."""
    return bool(execute("SELECT 1 FROM known_chat WHERE chat_id = ?", chat_id).fetchone())


def count_command(command: str, now: datetime) -> None:
    """Per day for /status and the record, per hour for the digest's exact window."""
    stats.bump(stats.COMMAND + command, now)
    execute(
        "INSERT INTO command_count (day, command, runs) VALUES (?, ?, 1)"
        " ON CONFLICT (day, command) DO UPDATE SET runs = command_count.runs + 1",
        now.date().isoformat(),
        command,
    )
