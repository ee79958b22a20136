"""Runtime admins (added with /admins), beside the fixed ADMIN_IDS."""

from __future__ import annotations

from datetime import datetime

from daemon.store.database import execute
from daemon.store.models import RuntimeAdmin


def runtime_admins() -> list[int]:
    return [row.user_id for row in RuntimeAdmin.select().order_by(RuntimeAdmin.user_id)]


def all_admins(env_admins: frozenset[int]) -> list[int]:
    """Everyone who may run admin commands: ADMIN_IDS and the runtime admins."""
    return sorted(env_admins | set(runtime_admins()))


def is_runtime_admin(user_id: int) -> bool:
    # Asked on every command: hand-written, as peewee's get_or_none costs ~0.5 ms.
    return execute("SELECT 1 FROM runtime_admin WHERE user_id = ?", user_id).fetchone() is not None


def add(user_id: int, added_by: int, now: datetime) -> None:
    RuntimeAdmin.insert(user_id=user_id, added_by=added_by, added_at=now).execute()


def remove(user_id: int) -> None:
    execute("DELETE FROM runtime_admin WHERE user_id = ?", user_id)
