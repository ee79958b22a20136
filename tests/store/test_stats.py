"""Hourly counters and uptime minutes on a real SQLite file: exact digest windows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import peewee
import pytest

from daemon.store import chats, schema, stats
from daemon.store.database import open_database

NOW = datetime(2026, 11, 28, 8, 0, 5)


@pytest.fixture
def db(database_url: str) -> Iterator[peewee.Database]:
    """On SQLite and on PostgreSQL."""
    database = open_database(database_url)
    schema.upgrade(database)
    with database.atomic():  # store writes need the caller's transaction
        yield database
    database.close()


def test_a_24_hour_window_counts_to_the_hour_not_the_calendar_day(db: peewee.Database) -> None:
    stats.bump(stats.UPDATES, NOW - timedelta(hours=30), 100)  # the day before: outside
    stats.bump(stats.UPDATES, NOW - timedelta(hours=23), 5)
    stats.bump(stats.UPDATES, NOW - timedelta(minutes=3), 2)
    stats.bump(stats.UPDATES, NOW - timedelta(minutes=2))
    assert stats.total(stats.UPDATES, NOW - timedelta(days=1), NOW) == 8


def test_commands_are_counted_by_name(db: peewee.Database) -> None:
    for name in ("start", "start", "status"):
        chats.count_command(name, NOW)
    chats.count_command("start", NOW - timedelta(days=3))
    window = stats.totals_by_suffix(stats.COMMAND, NOW - timedelta(days=1), NOW)
    assert window == {"start": 2, "status": 1}


def test_uptime_minutes_cover_long_heartbeat_intervals(db: peewee.Database) -> None:
    """A five-minute heartbeat interval still marks every minute it covered."""
    stats.alive_between(NOW - timedelta(minutes=5), NOW)
    stats.alive_between(NOW - timedelta(minutes=5), NOW)  # idempotent
    assert stats.minutes_up(NOW - timedelta(hours=1), NOW + timedelta(minutes=1)) == 6
    stats.prune(NOW - timedelta(minutes=2))  # 07:58:05: keeps 07:59 and 08:00
    assert stats.minutes_up(NOW - timedelta(hours=1), NOW + timedelta(minutes=1)) == 2
