"""Chats that talked to the bot, and commands run per day."""

from __future__ import annotations

from datetime import datetime

from daemon.store.database import execute, timestamp
from daemon.store.models import CommandCount


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


def count_command(command: str, now: datetime) -> None:
    execute(
        "INSERT INTO command_count (day, command, runs) VALUES (?, ?, 1)"
        " ON CONFLICT (day, command) DO UPDATE SET runs = command_count.runs + 1",
        now.date().isoformat(),
        command,
    )


def commands_run(since_day: datetime) -> dict[str, int]:
    rows = CommandCount.select(CommandCount.command, CommandCount.runs).where(
        CommandCount.day >= since_day.date()
    )
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.command] = totals.get(row.command, 0) + row.runs
    return totals
