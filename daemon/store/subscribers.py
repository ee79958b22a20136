"""Chats subscribed to broadcasts."""

from __future__ import annotations

from datetime import datetime

from daemon.store.database import execute
from daemon.store.models import Subscriber


def subscribe(chat_id: int, now: datetime) -> bool:
    """True if the chat was not subscribed before."""
    if is_subscribed(chat_id):
        return False
    Subscriber.insert(chat_id=chat_id, subscribed_at=now).execute()
    return True


def unsubscribe(chat_id: int) -> bool:
    """True if the chat was subscribed."""
    return bool(execute("DELETE FROM subscriber WHERE chat_id = ?", chat_id).rowcount)


def is_subscribed(chat_id: int) -> bool:
    return Subscriber.select().where(Subscriber.chat_id == chat_id).exists()


def all_chats() -> list[int]:
    return [row.chat_id for row in Subscriber.select().order_by(Subscriber.chat_id)]


def count() -> int:
    return Subscriber.select().count()
