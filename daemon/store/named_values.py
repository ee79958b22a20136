"""Small named facts in key_value (schema version, poll offset, last heartbeat, the
button key, the health probe): read and upserted the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from daemon.store.database import execute


def get(key: str) -> str | None:
    row = execute("SELECT value FROM key_value WHERE key = ?", key).fetchone()
    return None if row is None else str(row[0])


def put_if_absent(key: str, value: str) -> str:
    """Store `value` unless the key has one already; the value stored either way (two
    nodes of a cluster starting together agree on the first one written)."""
    execute("INSERT INTO key_value (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            key, value)  # fmt: skip
    stored = get(key)
    assert stored is not None
    return stored


def put(key: str, value: str) -> None:
    """Insert or overwrite (portable ON CONFLICT; peewee's replace() is SQLite-only)."""
    execute(
        "INSERT INTO key_value (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        key,
        value,
    )
