"""Daily counters and the uptime record, for the digest."""

from __future__ import annotations

from datetime import datetime, timedelta

from daemon.store.database import execute, timestamp
from daemon.store.models import DailyStat, UptimeMinute

UPDATES = "updates"
ERRORS = "errors"


def bump(name: str, now: datetime, by: int = 1) -> None:
    execute(
        "INSERT INTO daily_stat (day, name, value) VALUES (?, ?, ?)"
        " ON CONFLICT (day, name) DO UPDATE SET value = daily_stat.value + excluded.value",
        now.date().isoformat(),
        name,
        by,
    )


def total(name: str, since: datetime, until: datetime) -> int:
    value = (
        DailyStat.select(DailyStat.value)
        .where(
            DailyStat.name == name,
            DailyStat.day >= since.date(),
            DailyStat.day <= until.date(),
        )
        .tuples()
    )
    return sum(v for (v,) in value)


def alive_between(since: datetime, now: datetime) -> None:
    """Mark every minute from `since` to `now` as one the daemon was up in (a heartbeat
    interval longer than a minute must not read as downtime)."""
    minute = since.replace(second=0, microsecond=0)
    while minute <= now:
        execute(
            "INSERT INTO uptime_minute (minute) VALUES (?) ON CONFLICT (minute) DO NOTHING",
            timestamp(minute),
        )
        minute += timedelta(minutes=1)


def minutes_up(since: datetime, until: datetime) -> int:
    return (
        UptimeMinute.select()
        .where(UptimeMinute.minute >= since, UptimeMinute.minute < until)
        .count()
    )


def prune_uptime(before: datetime) -> None:
    UptimeMinute.delete().where(UptimeMinute.minute < before).execute()
