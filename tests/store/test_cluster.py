"""The lease in PostgreSQL (store/cluster.py): who may take it, renewal, release, and
fencing: an effect commits only while its node holds the lease in its epoch, and a
takeover ends a frozen holder's transaction instead of waiting on it."""

from __future__ import annotations

import threading
from datetime import datetime

import peewee
import pytest

from daemon.store import cluster, events, schema
from daemon.store.cluster import Fenced, Lease, LeaseConnection, Takeover, application_name
from daemon.store.database import Store, StoreUnavailable, open_database
from tests.support.postgres import PostgresServer

LEASE = 30.0


@pytest.fixture
def url(postgres: PostgresServer) -> str:
    url = postgres.create_database()
    db = open_database(url)
    schema.upgrade(db)
    db.close()
    return url


def node(url: str, name: str) -> LeaseConnection:
    return LeaseConnection(url, name, "host-1", 4242, "test")


def test_the_first_node_takes_the_free_lease_and_the_second_sees_it(url: str) -> None:
    a, b = node(url, "a"), node(url, "b")
    assert a.try_take(LEASE) == Takeover(epoch=1, previous="")
    seen = b.try_take(LEASE)
    assert isinstance(seen, Lease)
    assert (seen.holder, seen.epoch, seen.live) == ("a", 1, True)


def test_renewal_holds_the_lease_and_fails_once_another_node_took_it(url: str) -> None:
    a, b = node(url, "a"), node(url, "b")
    a.try_take(0.2)
    assert a.renew(1, 0.2)
    threading.Event().wait(0.4)  # the lease expires
    assert b.try_take(LEASE) == Takeover(epoch=2, previous="a")
    assert not a.renew(1, LEASE)  # a's epoch is gone: it must step down


def test_a_released_lease_is_taken_at_once(url: str) -> None:
    a, b = node(url, "a"), node(url, "b")
    a.try_take(LEASE)
    assert a.release(1)
    assert b.try_take(LEASE) == Takeover(epoch=2, previous="")  # free: a released it
    assert not a.release(1)  # not a's to release any more


def test_a_node_is_told_when_its_last_run_did_not_stop_cleanly(url: str) -> None:
    a = node(url, "a")
    assert a.register() is False  # never ran
    assert a.register() is True  # ran, never stopped: a crash
    a.stopped()
    assert a.register() is False


def test_a_nodes_up_time_adds_up_per_hour(url: str) -> None:
    a = node(url, "a")
    a.count_up(30)
    a.count_up(12)
    db = open_database(url)
    try:
        rows = db.execute_sql("SELECT name, value FROM hourly_stat").fetchall()
    finally:
        db.close()
    assert [tuple(row) for row in rows] == [("node.up:a", 42)]


def test_the_takeover_is_recorded_as_an_event(url: str) -> None:
    a, b = node(url, "a"), node(url, "b")
    a.try_take(0.1)
    threading.Event().wait(0.2)
    b.try_take(LEASE)
    db = open_database(url)
    try:
        view = cluster.view()
    finally:
        db.close()
    assert view.lease is not None
    assert (view.lease.holder, view.lease.epoch) == ("b", 2)
    assert view.last_takeover is not None
    assert view.last_takeover[1] == "b took over from a (epoch 1 → 2)"


async def test_an_effect_commits_only_under_its_own_node_and_epoch(url: str) -> None:
    a = node(url, "a")
    a.try_take(LEASE)
    store = Store(open_database(url))
    try:
        store.fence = lambda: cluster.check_epoch("a", 1)
        async with store.transaction():
            store.db.execute_sql("INSERT INTO key_value (key, value) VALUES ('x', '1')")
        store.fence = lambda: cluster.check_epoch("a", 7)
        with pytest.raises(
            Fenced, match=r"node a is not the leader \(the lease is a \(epoch 1\)\)"
        ):
            async with store.transaction():
                store.db.execute_sql("INSERT INTO key_value (key, value) VALUES ('y', '1')")
        written = store.db.execute_sql("SELECT key FROM key_value WHERE key IN ('x', 'y')")
        assert [row[0] for row in written] == ["x"]
        async with store.transaction(fenced=False):  # a node's own start record
            store.db.execute_sql("INSERT INTO key_value (key, value) VALUES ('z', '1')")
    finally:
        store.close()


async def test_a_takeover_ends_a_frozen_leaders_transaction_instead_of_waiting(
    url: str,
) -> None:
    """a holds the lease row FOR SHARE in an open transaction and never ends it (frozen):
    once the lease expires, b's takeover waits only lock_timeout, ends a's backends, and
    takes the lease at its next look; a's transaction can commit nothing."""
    a, b = node(url, "a"), node(url, "b")
    a.try_take(0.3)
    store = Store(open_database(url, application_name=application_name("a")))
    store.fence = lambda: cluster.check_epoch("a", 1)
    seen: list[Takeover | Lease] = []

    async def frozen_in_its_transaction() -> None:
        async with store.transaction():
            store.db.execute_sql("INSERT INTO key_value (key, value) VALUES ('late', '1')")
            threading.Event().wait(0.5)  # the lease expires while a is "frozen" here
            seen.append(b.try_take(LEASE))  # waits on a's share lock, then ends a's backends

    try:
        with pytest.raises(StoreUnavailable):
            await frozen_in_its_transaction()
        assert isinstance(seen[0], Lease)
        assert seen[0].holder == "a"
        assert b.try_take(LEASE) == Takeover(epoch=2, previous="a")
    finally:
        store.close()
    db = peewee.PostgresqlDatabase(url.rsplit("/", 1)[1], user="postgres", host="127.0.0.1",
                                   port=int(url.split(":")[2].split("/")[0]))  # fmt: skip
    with db.connection_context():
        rows = db.execute_sql("SELECT key FROM key_value WHERE key = 'late'").fetchall()
    assert rows == []


def test_event_ids_become_visible_in_order_whichever_connection_wrote_them(url: str) -> None:
    """The alert router follows the event log by id. On PostgreSQL a second writer takes
    its id only after the first one's commit (an advisory lock per insert), so a reader
    can never see id N+1 while N is still to come."""
    db = open_database(url)
    order: list[str] = []
    first_wrote = threading.Event()

    def first() -> None:
        with db.connection_context(), db.atomic():
            events.record("conflict", datetime(2026, 11, 30), "first")
            first_wrote.set()
            threading.Event().wait(0.5)  # a slow transaction, still open
            order.append("first commits")

    def second() -> None:
        first_wrote.wait(5)
        with db.connection_context(), db.atomic():
            events.record("conflict", datetime(2026, 11, 30), "second")
            order.append("second wrote")

    try:
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert order == ["first commits", "second wrote"]
        rows = db.execute_sql("SELECT detail FROM event ORDER BY id").fetchall()
        assert [row[0] for row in rows] == ["first", "second"]
    finally:
        db.close()
