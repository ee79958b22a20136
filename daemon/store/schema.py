"""Schema versions and the upgrade path (`tradebotd db upgrade`, or automatically at start).

A new database gets every table from the current models and is stamped with the latest
version. An older database runs the migrations after its version, each in its own
transaction with the version bump, so an upgrade that fails halfway leaves the previous
version intact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from daemon.store import named_values
from daemon.store.models import (
    ALL_MODELS,
    Broadcast,
    DigestRun,
    HourlyStat,
    KeyValue,
    RuntimeAdmin,
    Subscriber,
    UptimeMinute,
)

VERSION_KEY = "schema.version"


@dataclass(frozen=True)
class Migration:
    version: int
    summary: str
    apply: Callable[[peewee.Database], None]
    # False for migrations that rewrite much data or need the operator's attention:
    # then start refuses and `tradebotd db upgrade` must be run by hand.
    automatic: bool = True


def _v2_commands(db: peewee.Database) -> None:
    migrator = SchemaMigrator.from_database(db)
    migrate(
        migrator.add_column(
            "outbox_message", "kind", peewee.CharField(max_length=16, default="message")
        ),
        migrator.add_column("outbox_message", "payload", peewee.TextField(null=True)),
    )
    db.create_tables([RuntimeAdmin, Subscriber, Broadcast])


def _v3_digest(db: peewee.Database) -> None:
    db.create_tables([HourlyStat, UptimeMinute, DigestRun])


# Append here; never edit a released entry. Version 1 is the initial schema.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "outbox call kinds; runtime admins, subscribers, broadcasts", _v2_commands),
    Migration(3, "hourly counters, uptime minutes, digest runs", _v3_digest),
)


def latest_version() -> int:
    return MIGRATIONS[-1].version if MIGRATIONS else 1


class SchemaError(RuntimeError):
    """The database cannot be used by this version as it is; str() says what to do."""


def current_version(db: peewee.Database) -> int:
    """0 for an empty database."""
    if not db.table_exists(KeyValue._meta.table_name):
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


def upgrade(db: peewee.Database, automatic_only: bool = False) -> list[str]:
    """Bring the schema to the latest version; returns one line per step taken."""
    if current_version(db) == 0:
        with db.atomic():
            db.create_tables(ALL_MODELS)
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
