"""Store functions that must behave the same on SQLite and PostgreSQL (each test runs on
both): the schema's creation and stamp, named values, digest runs, the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import peewee
import pytest

from daemon.store import digest_runs, named_values, outbox, schema
from daemon.store.database import OutsideTransaction, open_database, savepoint
from daemon.store.outbox import Priority, Receiver

FIVE = Receiver.chat(5)
NOW = datetime(2026, 11, 29, 8, 0, 0)


@pytest.fixture
def db(database_url: str) -> Iterator[peewee.Database]:
    database = open_database(database_url)
    yield database
    database.close()


def test_a_new_database_is_created_and_stamped_at_the_latest_version(
    db: peewee.Database,
) -> None:
    """peewee's replace() is SQLite-only: the stamp is a portable upsert."""
    assert schema.upgrade(db) == [f"created schema version {schema.latest_version()}"]
    assert schema.current_version(db) == schema.latest_version()
    assert schema.upgrade(db) == []


def test_named_values_are_inserted_then_overwritten(db: peewee.Database) -> None:
    schema.upgrade(db)
    assert named_values.get("x") is None
    with db.atomic():
        named_values.put("x", "1")
        named_values.put("x", "2")
    assert named_values.get("x") == "2"


def test_the_first_value_put_if_absent_is_kept(db: peewee.Database) -> None:
    """Two nodes starting together each make a button key: both get the first one."""
    schema.upgrade(db)
    with db.atomic():
        assert named_values.put_if_absent("key", "first") == "first"
        assert named_values.put_if_absent("key", "second") == "first"
    assert named_values.get("key") == "first"


def test_a_digest_sent_again_keeps_the_latest_send(db: peewee.Database) -> None:
    schema.upgrade(db)
    assert digest_runs.find("day:2026-11-29") is None
    with db.atomic():
        digest_runs.record("day:2026-11-29", NOW, 2)
        digest_runs.record("day:2026-11-29", NOW.replace(hour=9), 3)
    assert digest_runs.find("day:2026-11-29") == digest_runs.DigestSent(
        "day:2026-11-29", NOW.replace(hour=9), 3
    )


def test_dead_letters_are_summarised_and_cleared(db: peewee.Database) -> None:
    schema.upgrade(db)
    with db.atomic():
        for hour in (6, 7, 8):
            outbox.enqueue(FIVE, f"at {hour}", NOW.replace(hour=hour), priority=Priority.REPLY)
        outbox.failed(1, "Forbidden")
        outbox.failed(2, "Forbidden")
    assert outbox.dead_letter_summary() == outbox.DeadLetters(
        2, NOW.replace(hour=6), NOW.replace(hour=7)
    )
    with db.atomic():
        assert outbox.clear_dead_letters() == 2
    assert outbox.backlog() == 1


def test_a_write_outside_a_transaction_fails_loudly(db: peewee.Database) -> None:
    """Autocommit would make it an effect of its own, half of something: it is refused."""
    schema.upgrade(db)
    with pytest.raises(OutsideTransaction, match="INSERT outside a transaction"):
        named_values.put("x", "1")
    with pytest.raises(OutsideTransaction, match="a savepoint needs the caller's transaction"):
        savepoint()
    assert named_values.get("x") is None
