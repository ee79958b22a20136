"""Chats that talked to the bot, and commands run per day."""

from __future__ import annotations

from datetime import datetime

from daemon.store.models import CommandCount, KnownChat


def record_start(chat_id: int, kind: str, name: str, now: datetime) -> int:
    """Count a /start from this chat; returns how many it has sent in all."""
    KnownChat.insert(
        chat_id=chat_id, kind=kind, name=name, first_seen=now, last_seen=now, starts=1
    ).on_conflict(
        conflict_target=[KnownChat.chat_id],
        update={KnownChat.starts: KnownChat.starts + 1, KnownChat.last_seen: now},
    ).execute()
    return KnownChat.get_by_id(chat_id).starts


def count_command(command: str, now: datetime) -> None:
    CommandCount.insert(day=now.date(), command=command, runs=1).on_conflict(
        conflict_target=[CommandCount.day, CommandCount.command],
        update={CommandCount.runs: CommandCount.runs + 1},
    ).execute()


def commands_run(since_day: datetime) -> dict[str, int]:
    rows = CommandCount.select(CommandCount.command, CommandCount.runs).where(
        CommandCount.day >= since_day.date()
    )
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.command] = totals.get(row.command, 0) + row.runs
    return totals
