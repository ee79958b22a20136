"""Which period a digest covers and the key that makes it idempotent. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7)}


@dataclass(frozen=True)
class Period:
    kind: str  # day or week
    key: str  # "day:2026-11-28" or "week:2026-W48", in the digest's time zone
    start: datetime  # naive UTC
    end: datetime  # naive UTC

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


def period_for(kind: str, now: datetime, timezone: str = "UTC") -> Period:
    """The period ending `now` (naive UTC); its key is the local date or ISO week."""
    if kind not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {kind!r}")
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(timezone))
    if kind == "day":
        key = f"day:{local.date().isoformat()}"
    else:
        year, week, _ = local.isocalendar()
        key = f"week:{year}-W{week:02d}"
    return Period(kind, key, now - PERIODS[kind], now)
