"""Which updates are done: processed update ids and the poll offset, written with effects.

An update is a duplicate only if its id is recorded here: Telegram restarts update ids
at a random (possibly lower) value after a week without updates, so "below the offset"
proves nothing. Ids are kept by age: at least a day (Telegram keeps and may resend an
unconfirmed update for 24 h) and less than a week (after a week idle a new id may
collide with an old record).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from daemon.store import named_values
from daemon.store.database import execute, timestamp
from daemon.store.models import ProcessedUpdate

OFFSET_KEY = "poll.offset"
# Telegram's update_id is a 32-bit signed integer; anything larger is not an update.
MAX_UPDATE_ID = 2**31 - 1


def stored_offset() -> int:
    """The next update_id to ask for; 0 when nothing was ever processed."""
    value = named_values.get(OFFSET_KEY)
    return int(value) if value is not None else 0


def claim(update_id: int, now: datetime) -> bool:
    """Record the update as processed, inside the caller's transaction; False when it
    already was (a duplicate: its effects are committed, apply nothing)."""
    rows = execute(
        "INSERT INTO processed_update (update_id, processed_at) VALUES (?, ?)"
        " ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
        update_id,
        timestamp(now),
    ).fetchall()
    return bool(rows)


def store_offset(offset: int) -> None:
    named_values.put(OFFSET_KEY, str(offset))


def prune_processed(now: datetime, kept: timedelta) -> int:
    """Forget processed ids recorded before now - kept; returns how many."""
    return int(ProcessedUpdate.delete().where(ProcessedUpdate.processed_at < now - kept).execute())
