"""Schema versions: creation, refusal of a newer database, migrations one transaction each."""

from __future__ import annotations

from pathlib import Path

import peewee
import pytest

from daemon.store import schema
from daemon.store.database import open_database
from daemon.store.models import KeyValue


@pytest.fixture
def db(tmp_path: Path) -> peewee.Database:
    database = open_database(f"sqlite:///{tmp_path / 'state' / 'db.sqlite'}")
    yield database
    database.close()


def test_a_new_database_is_created_at_the_latest_version_in_wal_mode(db: peewee.Database) -> None:
    assert schema.upgrade(db) == [f"created schema version {schema.latest_version()}"]
    assert schema.current_version(db) == schema.latest_version()
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert schema.upgrade(db) == []


def test_a_database_newer_than_the_code_is_refused(db: peewee.Database) -> None:
    schema.upgrade(db)
    KeyValue.replace(key=schema.VERSION_KEY, value=str(schema.latest_version() + 1)).execute()
    with pytest.raises(schema.SchemaError, match=f"version {schema.latest_version() + 1} is newer"):
        schema.upgrade(db)


def test_migrations_run_in_order_and_a_failing_one_keeps_the_old_version(
    db: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema.upgrade(db)
    applied: list[int] = []

    def ok(database: peewee.Database) -> None:
        database.execute_sql("CREATE TABLE extra (x INTEGER)")
        applied.append(2)

    def broken(database: peewee.Database) -> None:
        database.execute_sql("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("migration bug")

    monkeypatch.setattr(
        schema,
        "MIGRATIONS",
        (schema.Migration(2, "add extra", ok), schema.Migration(3, "broken", broken)),
    )
    with pytest.raises(RuntimeError, match="migration bug"):
        schema.upgrade(db)
    assert applied == [2]
    assert schema.current_version(db) == 2
    assert not db.table_exists("half_done")  # rolled back with its version bump


def test_a_manual_migration_stops_automatic_upgrade_with_advice(
    db: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema.upgrade(db)
    monkeypatch.setattr(
        schema,
        "MIGRATIONS",
        (schema.Migration(2, "rewrite ledger", lambda d: None, automatic=False),),
    )
    with pytest.raises(schema.SchemaError) as caught:
        schema.upgrade(db, automatic_only=True)
    assert str(caught.value) == (
        "database needs migration 2 (rewrite ledger), which is not run automatically: stop "
        "tradebotd, back up the database, then run `tradebotd db upgrade`"
    )
    assert schema.upgrade(db) == ["migrated to schema version 2: rewrite ledger"]
