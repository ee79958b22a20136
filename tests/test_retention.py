"""Tables that only grow are pruned by age on every heartbeat ([retention] settings); the
errors logged since the last beat are counted and recorded for alert routing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from daemon.config import PollingSettings, RetentionSettings
from daemon.heartbeat import Heartbeat
from daemon.logs import RingBuffer
from daemon.store import alerts, events, outbox, price_alerts, progress, schema, stats
from daemon.store.database import Store, execute, open_database
from daemon.store.models import Event, HourlyStat, OutboxMessage, ProcessedUpdate
from daemon.store.outbox import Priority, Receiver
from daemon.systemd import Notifier
from daemon.vitals import Vitals

FIVE = Receiver.chat(5)
NOW = datetime(2026, 11, 28, 12, 0, 0)
DAY = timedelta(days=1)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """On SQLite and on PostgreSQL."""
    db = open_database(database_url)
    schema.upgrade(db)
    yield Store(db)
    db.close()


def heartbeat(
    store: Store, retention: RetentionSettings, ring: RingBuffer | None = None
) -> Heartbeat:
    vitals = Vitals.starting("test", False, 0.0, PollingSettings())
    return Heartbeat(
        vitals=vitals,
        notifier=Notifier(environ={}),
        store=store,
        interval=lambda: 60.0,
        watchdog_interval=None,
        utcnow=lambda: NOW,
        ring=ring or RingBuffer(),
        clock=lambda: 0.0,
        retention=lambda: retention,
    )


async def test_each_growing_table_is_pruned_by_its_own_age(store: Store) -> None:
    retention = RetentionSettings(
        processed_updates=2 * 86400.0,
        dead_letters=3 * 86400.0,
        events=10 * 86400.0,
        digest_history=9 * 86400.0,
    )
    async with store.transaction():
        for age_days, update_id in ((1, 1), (3, 2)):
            assert progress.claim(update_id, NOW - age_days * DAY)
        for age_days in (2, 4):
            outbox.enqueue(
                FIVE, f"dead at {age_days}d", NOW - age_days * DAY, priority=Priority.REPLY
            )
        outbox.enqueue(FIVE, "waiting for 30 days", NOW - 30 * DAY, priority=Priority.REPLY)
        OutboxMessage.update(dead=True).where(OutboxMessage.text.startswith("dead")).execute()
        for age_days in (20, 5):
            events.record(f"start {age_days}d", NOW - age_days * DAY)
        for age_days in (8, 12):
            stats.bump(stats.UPDATES, NOW - age_days * DAY)
    await heartbeat(store, retention).beat()
    assert [p.update_id for p in ProcessedUpdate.select()] == [1]
    assert sorted(m.text for m in OutboxMessage.select()) == [
        "dead at 2d",
        "waiting for 30 days",  # only dead letters age out: a queued reply is never dropped
    ]
    assert [e.kind for e in Event.select()] == ["start 5d"]
    assert [h.hour.date() for h in HourlyStat.select().where(HourlyStat.name == "updates")] == [
        (NOW - 8 * DAY).date()
    ]


async def test_the_newest_event_outlives_its_age(store: Store) -> None:
    """It says how the last run ended: a daemon down for months still learns it."""
    async with store.transaction():
        events.record("stop", NOW - 400 * DAY)
    await heartbeat(store, RetentionSettings()).beat()
    assert [e.kind for e in Event.select()] == ["stop"]


async def test_alerts_are_kept_as_long_as_events(store: Store) -> None:
    """Routed alerts, repeat records, ended silences and fired price alerts older than
    the events' age go; an alert not yet routed stays, however old."""
    async with store.transaction():
        for key, age_days, routed in (("old", 20, True), ("new", 5, True), ("waiting", 20, False)):
            alert_id = alerts.add(key, key, {"kind": "x"}, key, NOW - age_days * DAY)
            if routed and alert_id is not None:
                alerts.mark_routed([alert_id], NOW - age_days * DAY)
        alerts.record_sent("admins", ["old"], NOW - 20 * DAY)
        alerts.record_sent("admins", ["new"], NOW - 5 * DAY)
        alerts.add_silence(("a=b",), NOW - 30 * DAY, NOW - 20 * DAY, "", 1)
        fired = price_alerts.add(1, 1, "BTC/USDT", True, Decimal(1), NOW - 30 * DAY)
        price_alerts.fire(fired, Decimal(2), NOW - 20 * DAY)
        price_alerts.add(1, 1, "BTC/USDT", True, Decimal(3), NOW - 30 * DAY)  # still active
    await heartbeat(store, RetentionSettings(events=10 * 86400.0)).beat()
    assert [r[0] for r in execute("SELECT key FROM alert ORDER BY id").fetchall()] == [
        "new",
        "waiting",
    ]
    assert alerts.sent_since(NOW - 100 * DAY) == {("admins", "new"): NOW - 5 * DAY}
    assert alerts.active_silences(NOW - 100 * DAY) == []
    assert [row.price for row in price_alerts.active()] == [Decimal(3)]


async def test_errors_logged_since_the_last_beat_are_counted_and_recorded_for_alerts(
    store: Store,
) -> None:
    ring = RingBuffer()
    beat = heartbeat(store, RetentionSettings(), ring)
    ring.add(40, "12:00:00 ERROR    prices: binance failed badly")
    ring.add(20, "12:00:01 INFO     fine")
    await beat.beat()
    [(detail,)] = execute("SELECT detail FROM event WHERE kind = 'errors'").fetchall()
    assert json.loads(detail) == {
        "count": 1,
        "last": "12:00:00 ERROR    prices: binance failed badly",
    }
    await beat.beat()  # nothing new: nothing recorded
    assert execute("SELECT COUNT(*) FROM event WHERE kind = 'errors'").fetchone()[0] == 1
