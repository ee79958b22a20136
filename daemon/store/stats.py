"""Hourly counters and the uptime record, for the digest."""

from __future__ import annotations

from datetime import datetime, timedelta

from daemon.store.database import execute, timestamp
from daemon.store.models import HourlyStat, UptimeMinute

UPDATES = "updates"
ERRORS = "errors"
COMMAND = "command:"  # + the command's name


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


# Seconds each node of a cluster was up (its lease loop ran), per hour: "node.up:a".
NODE_UP = "node.up:"


def bump(name: str, now: datetime, by: int = 1) -> None:
    execute(
        "INSERT INTO hourly_stat (hour, name, value) VALUES (?, ?, ?)"
        " ON CONFLICT (hour, name) DO UPDATE SET value = hourly_stat.value + excluded.value",
        timestamp(_hour(now)),
        name,
        by,
    )


def total(name: str, since: datetime, until: datetime) -> int:
    row = execute(
        "SELECT coalesce(sum(value), 0) FROM hourly_stat"
        " WHERE name = ? AND hour >= ? AND hour <= ?",
        name,
        timestamp(_hour(since)),
        timestamp(until),
    ).fetchone()
    return int(row[0])


def totals_by_suffix(prefix: str, since: datetime, until: datetime) -> dict[str, int]:
    """{"start": 5, …} for counters named "<prefix>start", …"""
    rows = execute(
        "SELECT name, sum(value) FROM hourly_stat"
        " WHERE substr(name, 1, ?) = ? AND hour >= ? AND hour <= ? GROUP BY name",
        len(prefix),
        prefix,
        timestamp(_hour(since)),
        timestamp(until),
    ).fetchall()
    return {str(name).removeprefix(prefix): int(value) for name, value in rows}


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


def prune(before: datetime) -> None:
    """Forget hourly counters and uptime minutes older than `before`."""
    HourlyStat.delete().where(HourlyStat.hour < _hour(before)).execute()
    UptimeMinute.delete().where(UptimeMinute.minute < before).execute()
