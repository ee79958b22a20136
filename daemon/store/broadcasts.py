"""Broadcasts: created by /broadcast, sent or cancelled by a confirmation button."""

from __future__ import annotations

from datetime import datetime

from daemon.store.models import Broadcast


def create(text: str, created_by: int, now: datetime, recipients: int) -> int:
    return Broadcast.insert(
        text=text, created_by=created_by, created_at=now, recipients=recipients
    ).execute()


def get(broadcast_id: int) -> Broadcast | None:
    return Broadcast.get_or_none(Broadcast.id == broadcast_id)


def settle(broadcast_id: int, state: str, recipients: int) -> None:
    Broadcast.update(state=state, recipients=recipients).where(
        Broadcast.id == broadcast_id
    ).execute()
