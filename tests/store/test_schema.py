"""Schema versions: creation, refusal of a newer database, migrations one transaction each."""

from __future__ import annotations

from pathlib import Path

import peewee
import pytest

from daemon.store import named_values, schema
from daemon.store.database import open_database


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
    with db.atomic():
        named_values.put(schema.VERSION_KEY, str(schema.latest_version() + 1))
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

    base = schema.latest_version()
    monkeypatch.setattr(
        schema,
        "MIGRATIONS",
        (
            *schema.MIGRATIONS,
            schema.Migration(base + 1, "add extra", ok),
            schema.Migration(base + 2, "broken", broken),
        ),
    )
    with pytest.raises(RuntimeError, match="migration bug"):
        schema.upgrade(db)
    assert applied == [2]
    assert schema.current_version(db) == base + 1
    assert not db.table_exists("half_done")  # rolled back with its version bump


def test_a_manual_migration_stops_automatic_upgrade_with_advice(
    db: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema.upgrade(db)
    manual = schema.latest_version() + 1
    monkeypatch.setattr(
        schema,
        "MIGRATIONS",
        (
            *schema.MIGRATIONS,
            schema.Migration(manual, "rewrite ledger", lambda d: None, automatic=False),
        ),
    )
    with pytest.raises(schema.SchemaError) as caught:
        schema.upgrade(db, automatic_only=True)
    assert str(caught.value) == (
        f"database needs migration {manual} (rewrite ledger), which is not run automatically: "
        "stop tradebotd, back up the database, then run `tradebotd db upgrade`"
    )
    assert schema.upgrade(db) == [f"migrated to schema version {manual}: rewrite ledger"]


def test_a_version_1_database_is_migrated_keeping_its_rows(db: peewee.Database) -> None:
    """The schema as version 1 shipped it (a dump) upgrades in place through every later
    version: the queued reply stays, gains kind 'message', becomes a reply-priority item
    for chat 7, and the new tables appear."""
    dump = (Path(__file__).parent / "fixtures" / "schema_v1.sql").read_text()
    db.connection().executescript(dump)
    with db.atomic():
        db.execute_sql(
            "INSERT INTO outbox_message (chat_id, text, parse_mode, created_at, attempts, dead)"
            " VALUES (7, 'queued before the upgrade', 'HTML', '2026-11-28 10:00:00', 0, 0)"
        )
    assert schema.current_version(db) == 1
    assert schema.upgrade(db, automatic_only=True) == [
        "migrated to schema version 2: outbox call kinds; runtime admins, subscribers, broadcasts",
        "migrated to schema version 3: hourly counters, uptime minutes, digest runs",
        "migrated to schema version 4: notification queue: receivers, priorities, dedup keys,"
        " retry times",
        "migrated to schema version 5: paper trading: journal, balances, fills, lots, quotes,"
        " equity snapshots",
        "migrated to schema version 6: AutoSell: rule states and rules set by command",
        "migrated to schema version 7: alert routing: alerts, the repeat log, silences",
        "migrated to schema version 8: personal price alerts",
        "migrated to schema version 9: active/standby nodes: the leadership lease and the node"
        " list",
    ]
    assert db.execute_sql(
        "SELECT kind, receiver_kind, chat_id, priority, text FROM outbox_message"
    ).fetchall() == [("message", "telegram", 7, 1, "queued before the upgrade")]
    for table in ("runtime_admin", "subscriber", "broadcast", "hourly_stat", "digest_run",
                  "ledger_posting", "paper_fill"):  # fmt: skip
        assert db.table_exists(table)
