"""Broadcasts: created by /broadcast, sent or cancelled by a confirmation button."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from daemon.store.models import Broadcast


@dataclass(frozen=True)
class BroadcastRecord:
    id: int
    text: str
    created_by: int
    state: str  # pending, sent, cancelled
    recipients: int


def create(text: str, created_by: int, now: datetime, recipients: int) -> int:
    return int(
        Broadcast.insert(
            text=text, created_by=created_by, created_at=now, recipients=recipients
        ).execute()
    )


def get(broadcast_id: int) -> BroadcastRecord | None:
    row = Broadcast.get_or_none(Broadcast.id == broadcast_id)
    if row is None:
        return None
    return BroadcastRecord(row.id, row.text, row.created_by, row.state, row.recipients)


def settle(broadcast_id: int, state: str, recipients: int) -> None:
    Broadcast.update(state=state, recipients=recipients).where(
        Broadcast.id == broadcast_id
    ).execute()
