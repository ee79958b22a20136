"""Which updates are done: the poll offset and processed update ids, written with effects."""

from __future__ import annotations

from datetime import datetime

from daemon.store.database import execute, timestamp
from daemon.store.models import KeyValue, ProcessedUpdate

OFFSET_KEY = "poll.offset"


def stored_offset() -> int:
    """The next update_id to ask for; 0 when nothing was ever processed."""
    row = KeyValue.get_or_none(KeyValue.key == OFFSET_KEY)
    return int(row.value) if row else 0


def mark_processed(update_id: int, now: datetime) -> int:
    """Record the update as done and move the offset past it; returns the new offset.

    Updates are processed in id order, so the new offset is simply update_id + 1.
    """
    execute(
        "INSERT INTO processed_update (update_id, processed_at) VALUES (?, ?)"
        " ON CONFLICT (update_id) DO NOTHING",
        update_id,
        timestamp(now),
    )
    execute(
        "INSERT INTO key_value (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        OFFSET_KEY,
        str(update_id + 1),
    )
    return update_id + 1


def prune_processed(keep: int = 5000) -> int:
    """Forget all but the newest `keep` ids (the offset already covers older ones)."""
    newest = (
        ProcessedUpdate.select(ProcessedUpdate.update_id)
        .order_by(ProcessedUpdate.update_id.desc())
        .offset(keep)
        .limit(1)
        .scalar()
    )
    if newest is None:
        return 0
    return ProcessedUpdate.delete().where(ProcessedUpdate.update_id <= newest).execute()
