"""Runtime admins (added with /admins), beside the fixed ADMIN_IDS."""

from __future__ import annotations

from datetime import datetime

from daemon.store.models import RuntimeAdmin


def runtime_admins() -> list[int]:
    return [row.user_id for row in RuntimeAdmin.select().order_by(RuntimeAdmin.user_id)]


def is_runtime_admin(user_id: int) -> bool:
    return RuntimeAdmin.get_or_none(RuntimeAdmin.user_id == user_id) is not None


def add(user_id: int, added_by: int, now: datetime) -> None:
    RuntimeAdmin.insert(user_id=user_id, added_by=added_by, added_at=now).execute()


def remove(user_id: int) -> None:
    RuntimeAdmin.delete_by_id(user_id)
