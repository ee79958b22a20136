"""Where a P&L period starts: today, this week (Monday) or this month, at local midnight
in the digest's time zone. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")
PERIODS = ("day", "week", "month")


def period_start(kind: str, now: datetime, timezone: str) -> datetime:
    """The start (naive UTC) of the local day, ISO week or month that holds `now`
    (naive UTC)."""
    local = now.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "week":
        midnight -= timedelta(days=midnight.weekday())
    elif kind == "month":
        midnight = midnight.replace(day=1)
    elif kind != "day":
        raise ValueError(f"a period is one of {', '.join(PERIODS)}, got {kind!r}")
    # Rebuilt from the wall-clock fields: the zone may have changed its offset since then.
    start = datetime(midnight.year, midnight.month, midnight.day, tzinfo=ZoneInfo(timezone))
    return start.astimezone(UTC).replace(tzinfo=None)
