"""The notification queue's store, on SQLite and PostgreSQL: only each receiver's oldest
item is due, most urgent first; dedup keys; retry times; a receiver's items dropped
together."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import peewee
import pytest

from daemon.store import outbox, schema
from daemon.store.database import open_database
from daemon.store.outbox import Priority, Receiver

NOW = datetime(2026, 11, 29, 8, 0, 0)
A, B, C = Receiver.chat(1), Receiver.chat(2), Receiver.chat(-3)
OPS = Receiver("apprise", name="ops")


@pytest.fixture
def db(database_url: str) -> Iterator[peewee.Database]:
    database = open_database(database_url)
    schema.upgrade(database)
    yield database
    database.close()


def queue(db: peewee.Database, *items: tuple[Receiver, str, Priority]) -> None:
    with db.atomic():
        for receiver, text, priority in items:
            outbox.enqueue(receiver, text, NOW, priority=priority)


def heads(now: datetime, receivers: int) -> list[outbox.QueuedCall]:
    """Each due receiver's oldest item, as the sender's round sees them first."""
    return [run[0] for run in outbox.runs(now, receivers, 1)]


def texts(calls: list[outbox.QueuedCall]) -> list[str]:
    return [call.text for call in calls]


def test_heads_are_each_receivers_oldest_item_most_urgent_first(db: peewee.Database) -> None:
    queue(
        db,
        (A, "a1 bulk", Priority.BULK),
        (A, "a2 admin", Priority.ADMIN_REPLY),  # behind a1: order within a chat holds
        (B, "b1 alert", Priority.ALERT),
        (C, "c1 reply", Priority.REPLY),
        (OPS, "ops1 alert", Priority.ALERT),
    )
    due = heads(NOW, 10)
    assert texts(due) == ["c1 reply", "b1 alert", "ops1 alert", "a1 bulk"]
    assert [call.receiver for call in due] == [C, B, OPS, A]
    assert [call.receiver.is_group for call in due] == [True, False, False, False]
    with db.atomic():
        outbox.delivered([due[3].id])
    assert texts(heads(NOW, 10))[0] == "a2 admin"


def test_an_item_waiting_to_retry_holds_its_receiver_only(db: peewee.Database) -> None:
    queue(db, (A, "a1", Priority.REPLY), (A, "a2", Priority.REPLY), (B, "b1", Priority.REPLY))
    first = heads(NOW, 10)[0]
    later = NOW + timedelta(seconds=30)
    with db.atomic():
        outbox.retry_later(first.id, "Bad Gateway", later)
    assert texts(heads(NOW, 10)) == ["b1"]
    assert outbox.next_retry_at() == later
    retried = heads(later, 10)
    assert texts(retried) == ["a1", "b1"]
    assert retried[0].attempts == 1


def test_a_dedup_key_queues_an_item_once(db: peewee.Database) -> None:
    with db.atomic():
        assert outbox.enqueue(A, "x", NOW, priority=Priority.ALERT, dedup_key="k")
        assert not outbox.enqueue(A, "x again", NOW, priority=Priority.ALERT, dedup_key="k")
        assert outbox.enqueue(A, "no key", NOW, priority=Priority.ALERT)
        assert outbox.enqueue(A, "no key", NOW, priority=Priority.ALERT)
    assert outbox.backlog() == 3


def test_a_receiver_that_is_gone_loses_all_its_items_and_only_its_own(
    db: peewee.Database,
) -> None:
    queue(db, (A, "a1", Priority.REPLY), (A, "a2", Priority.BULK), (B, "b1", Priority.REPLY))
    with db.atomic():
        assert outbox.fail_receiver(A, "Forbidden: bot was blocked by the user") == 2
    assert texts(heads(NOW, 10)) == ["b1"]
    assert outbox.dead_letter_summary().count == 2


def test_runs_hold_each_receivers_oldest_items_in_order(db: peewee.Database) -> None:
    queue(
        db,
        (A, "a1", Priority.BULK),
        (B, "b1", Priority.ALERT),
        (A, "a2", Priority.ADMIN_REPLY),
        (A, "a3", Priority.BULK),
        (B, "b2", Priority.BULK),
    )
    assert [texts(run) for run in outbox.runs(NOW, 10, 2)] == [["b1", "b2"], ["a1", "a2"]]
    assert [texts(run) for run in outbox.runs(NOW, 1, 2)] == [["b1", "b2"]]
