"""Frozen migrations: a fresh database and one migrated from every earlier version end
with identical schemas (tables, columns, types, nullability, keys, indexes), and that
schema is what the live models describe. Fresh and from-version-1 also on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import peewee
import pytest

from daemon.store import schema
from daemon.store.database import open_database
from daemon.store.migrations import INITIAL
from daemon.store.models import ALL_MODELS

FIXTURES = Path(__file__).parent / "fixtures"


def describe(db: peewee.Database) -> dict[str, Any]:
    """Tables → sorted columns and indexes, as the database itself reports them."""
    described: dict[str, Any] = {}
    for table in sorted(db.get_tables()):
        columns = sorted(
            (c.name, c.data_type.lower(), c.null, c.primary_key) for c in db.get_columns(table)
        )
        indexes = sorted((tuple(i.columns), i.unique) for i in db.get_indexes(table))
        described[table] = {"columns": columns, "indexes": indexes}
    return described


def open_sqlite(path: Path) -> peewee.Database:
    return open_database(f"sqlite:///{path}")


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = open_sqlite(tmp_path / "fresh.sqlite")
    schema.upgrade(db)
    yield describe(db)
    db.close()


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5, 6, 7, 8, 9])
def test_a_database_from_each_shipped_version_migrates_to_the_fresh_schema(
    tmp_path: Path, fresh: dict[str, Any], version: int
) -> None:
    """The dumps are what versions 1 to 9 created (fresh, by their own code)."""
    db = open_sqlite(tmp_path / f"v{version}.sqlite")
    db.connection().executescript((FIXTURES / f"schema_v{version}.sql").read_text())
    assert schema.current_version(db) == version
    schema.upgrade(db, automatic_only=True)
    assert schema.current_version(db) == schema.latest_version()
    assert describe(db) == fresh
    db.close()


def test_the_live_models_describe_the_migrated_schema(tmp_path: Path) -> None:
    """Every model's columns and nullability are what the migrations built: a model that
    gains a column without a migration fails here."""
    db = open_sqlite(tmp_path / "fresh.sqlite")
    schema.upgrade(db)
    for model in ALL_MODELS:
        table = model._meta.table_name
        in_database = {(c.name, c.null) for c in db.get_columns(table)}
        in_model = {(f.column_name, f.null) for f in model._meta.sorted_fields}
        assert in_model == in_database, table
    assert {m._meta.table_name for m in ALL_MODELS} == set(db.get_tables())
    db.close()


def test_on_postgresql_fresh_and_from_version_1_are_identical(postgres: Any) -> None:
    """The same frozen steps on PostgreSQL: version 1's tables, then every migration,
    give the schema a fresh database gets."""
    fresh = open_database(postgres.create_database())
    schema.upgrade(fresh)
    expected = describe(fresh)
    fresh.close()
    old = open_database(postgres.create_database())
    with old.atomic():
        INITIAL.apply(old)
        old.execute_sql("INSERT INTO key_value (key, value) VALUES ('schema.version', '1')")
    assert len(schema.upgrade(old)) == len(schema.MIGRATIONS)
    assert describe(old) == expected
    old.close()


def test_live_models_in_a_migration_would_break_a_later_column(tmp_path: Path) -> None:
    """Why the steps are frozen: had version 1 created outbox_message from the live model
    (which has `kind`), version 2's add_column('kind') would fail on a fresh database."""
    from daemon.store.models import OutboxMessage

    db = open_sqlite(tmp_path / "live.sqlite")
    db.create_tables([OutboxMessage])  # the live shape, as the old create_tables did
    with pytest.raises(peewee.OperationalError, match="duplicate column name: kind"):
        schema.MIGRATIONS[0].apply(db)
    db.close()
