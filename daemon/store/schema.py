"""Schema versions and the upgrade path (`tradebotd db upgrade`, or automatically at start).

The steps are frozen (store/migrations/): a new database runs every one of them from
version 1 in one transaction, so it ends exactly where an old database ends after
upgrading. An older database runs the steps after its version, each in its own
transaction with the version bump, so an upgrade that fails halfway leaves the previous
version intact.
"""

from __future__ import annotations

import peewee

from daemon.store import named_values
from daemon.store.database import execute
from daemon.store.migrations import INITIAL, MIGRATIONS, Migration

__all__ = ["MIGRATIONS", "Migration", "SchemaError", "current_version", "pending", "upgrade"]

VERSION_KEY = "schema.version"


def latest_version() -> int:
    return MIGRATIONS[-1].version if MIGRATIONS else 1


class SchemaError(RuntimeError):
    """The database cannot be used by this version as it is; str() says what to do."""


def current_version(db: peewee.Database) -> int:
    """0 for an empty database."""
    if not db.table_exists("key_value"):
        return 0
    value = named_values.get(VERSION_KEY)
    return int(value) if value is not None else 0


def _stamp(version: int) -> None:
    named_values.put(VERSION_KEY, str(version))


def pending(db: peewee.Database) -> list[Migration]:
    version, latest = current_version(db), latest_version()
    if version > latest:
        raise SchemaError(
            f"database schema version {version} is newer than this tradebotd knows "
            f"({latest}): install the newer tradebotd or restore a backup"
        )
    return [m for m in MIGRATIONS if m.version > version] if version else []


# The PostgreSQL advisory lock an upgrade holds: the nodes of a cluster start together
# against one database, and only one of them may create or migrate it.
UPGRADE_LOCK = 0x7472_6164_6562_6F74  # "tradebot"


def upgrade(db: peewee.Database, automatic_only: bool = False) -> list[str]:
    """Bring the schema to the latest version; returns one line per step taken."""
    if isinstance(db, peewee.PostgresqlDatabase):
        execute("SELECT pg_advisory_lock(?)", UPGRADE_LOCK)
        try:
            return _upgrade(db, automatic_only)
        finally:
            execute("SELECT pg_advisory_unlock(?)", UPGRADE_LOCK)
    return _upgrade(db, automatic_only)


def _upgrade(db: peewee.Database, automatic_only: bool) -> list[str]:
    if current_version(db) == 0:
        with db.atomic():
            for step in (INITIAL, *MIGRATIONS):
                step.apply(db)
            _stamp(latest_version())
        return [f"created schema version {latest_version()}"]
    steps = pending(db)
    manual = [m for m in steps if not m.automatic]
    if automatic_only and manual:
        raise SchemaError(
            f"database needs migration {manual[0].version} ({manual[0].summary}), which is "
            "not run automatically: stop tradebotd, back up the database, then run "
            "`tradebotd db upgrade`"
        )
    done = []
    for migration in steps:
        with db.atomic():
            migration.apply(db)
            _stamp(migration.version)
        done.append(f"migrated to schema version {migration.version}: {migration.summary}")
    return done
