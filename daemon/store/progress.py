"""Which updates are done: the poll offset and processed update ids, written with effects."""

from __future__ import annotations

from datetime import datetime

from daemon.store.models import KeyValue, ProcessedUpdate

OFFSET_KEY = "poll.offset"


def stored_offset() -> int:
    """The next update_id to ask for; 0 when nothing was ever processed."""
    row = KeyValue.get_or_none(KeyValue.key == OFFSET_KEY)
    return int(row.value) if row else 0


def was_processed(update_id: int) -> bool:
    return ProcessedUpdate.get_or_none(ProcessedUpdate.update_id == update_id) is not None


def mark_processed(update_id: int, now: datetime) -> int:
    """Record the update as done and move the offset past it; returns the new offset."""
    ProcessedUpdate.insert(update_id=update_id, processed_at=now).on_conflict_ignore().execute()
    offset = max(stored_offset(), update_id + 1)
    KeyValue.replace(key=OFFSET_KEY, value=str(offset)).execute()
    return offset


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
