"""The router on a real database (SQLite and PostgreSQL): the daemon's events become
alerts once each, go down the tree to their receivers' chats and Apprise targets at
alert priority, grouped; a silence mutes what it matches; a restart loses nothing and
sends nothing twice."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from daemon.alerts.router import AlertRouter
from daemon.alerts.settings import AlertsSettings
from daemon.store import alerts as stored
from daemon.store import events
from daemon.store.database import Store, execute
from tests.support.config import settings_from

T0 = datetime(2026, 11, 30, 9, 0)
CONFIG = """
[[alerts.receivers]]
name = "admins"
telegram = [111, "@desk_channel"]

[[alerts.receivers]]
name = "ops"
apprise = ["json://127.0.0.1:9/alerts"]

[alerts.route]
receiver = "admins"
group_wait = 0
group_interval = "1m"

[[alerts.route.routes]]
matchers = ['severity="critical"']
receiver = "ops"
continue = true
"""


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def alerts_settings(tmp_path: Path) -> AlertsSettings:
    section: AlertsSettings = settings_from(tmp_path, CONFIG).section("alerts")
    return section


def queued() -> list[tuple[str, int, str, int, str]]:
    rows = execute("SELECT receiver_kind, chat_id, receiver_name, priority, text"
                   " FROM outbox_message ORDER BY id").fetchall()  # fmt: skip
    return [(str(k), int(c), str(n or ""), int(p), str(t)) for k, c, n, p, t in rows]


async def record(store: Store, kind: str, at: datetime, detail: dict[str, str] | str) -> None:
    async with store.transaction():
        text = detail if isinstance(detail, str) else json.dumps(detail)
        events.record(kind, at, text)


async def started(store: Store, tmp_path: Path, clock: Clock) -> AlertRouter:
    settings = alerts_settings(tmp_path)
    router = AlertRouter(lambda: settings, store, clock, lambda: None)
    async with store.transaction():
        stored.set_event_cursor(events.last_id())
    return router


async def test_events_reach_their_receivers_grouped_and_once(store: Store, tmp_path: Path) -> None:
    clock = Clock()
    router = await started(store, tmp_path, clock)
    fill = {"kind": "fill", "symbol": "BTC/USDT", "side": "buy", "qty": "0.1",
            "price": "50025", "fee": "5.0025", "realized": "0"}  # fmt: skip
    await record(store, "fill", T0, fill)
    await record(store, "conflict", T0, "409 from another getUpdates")
    await router.cycle()
    rows = queued()
    # The fill goes to admins' two chats (the root: no child matched); the conflict
    # (critical) to ops: a matching child takes it from the root, and `continue` only
    # lets its later siblings match too.
    assert [(kind, chat, name) for kind, chat, name, _, _ in rows] == [
        ("telegram", 111, ""), ("telegram", 0, "@desk_channel"), ("apprise", 0, "ops"),
    ]  # fmt: skip
    assert {priority for *_, priority, _ in rows} == {2}
    assert "Paper buy 0.1 BTC/USDT at 50025 (fee 5.0025)" in rows[0][4]
    assert "Another process is polling this bot's token" in rows[2][4]
    await router.cycle()
    assert len(queued()) == 3  # nothing twice
    assert execute("SELECT COUNT(*) FROM alert WHERE routed_at IS NULL").fetchone()[0] == 0


async def test_a_later_alert_of_a_notified_group_waits_its_group_interval(
    store: Store, tmp_path: Path
) -> None:
    clock = Clock()
    router = await started(store, tmp_path, clock)
    await record(store, "stop", T0, "status 0")
    await router.cycle()
    assert len(queued()) == 2
    clock.now = T0 + timedelta(seconds=10)
    await record(store, "stop", clock.now, "status 0")
    await router.cycle()
    assert len(queued()) == 2  # the group was notified 10 s ago: it waits a minute
    clock.now = T0 + timedelta(seconds=60)
    await router.cycle()
    assert len(queued()) == 4


async def test_a_silence_mutes_what_it_matches(store: Store, tmp_path: Path) -> None:
    clock = Clock()
    router = await started(store, tmp_path, clock)
    async with store.transaction():
        silence = stored.add_silence(('kind="fill"',), T0, T0 + timedelta(hours=1), "", 7)
    await record(store, "fill", T0, {"symbol": "BTC/USDT"})
    await router.cycle()
    assert queued() == []
    assert execute("SELECT silenced_by FROM alert").fetchall() == [(silence,)]
    assert router.counters.silenced == 1


async def test_a_restart_routes_what_was_waiting_and_resends_nothing(
    store: Store, tmp_path: Path
) -> None:
    clock = Clock()
    router = await started(store, tmp_path, clock)
    await record(store, "stop", T0, "status 0")
    await router.cycle()  # sent
    clock.now = T0 + timedelta(seconds=10)
    await record(store, "stop", clock.now, "status 1")
    await router.cycle()  # stored and grouped, waiting for its group's interval
    assert len(queued()) == 2
    # A new router (a restarted daemon) with the same database.
    settings = alerts_settings(tmp_path)
    again = AlertRouter(lambda: settings, store, clock, lambda: None)
    await again.cycle()
    texts = [text for *_, text in queued()]
    assert sum("status 0" in text for text in texts) == 2  # once per chat, not again
    assert sum("status 1" in text for text in texts) == 2
    assert execute("SELECT COUNT(*) FROM alert WHERE routed_at IS NULL").fetchone()[0] == 0


async def test_alerts_waiting_in_their_groups_do_not_hold_back_newer_ones(
    store: Store, tmp_path: Path
) -> None:
    """Five hundred and five alerts wait in a group with a long group_wait; one that
    arrives after them for a route without a wait goes out at once."""
    settings: AlertsSettings = settings_from(tmp_path, """
[[alerts.receivers]]
name = "admins"
telegram = [111]
[alerts.route]
receiver = "admins"
[[alerts.route.routes]]
matchers = ['kind="slow"']
group_wait = "10m"
""").section("alerts")  # fmt: skip
    clock = Clock()
    router = AlertRouter(lambda: settings, store, clock, lambda: None)
    async with store.transaction():
        for n in range(505):
            stored.add(f"s{n}", f"s{n}", {"kind": "slow", "id": f"s{n}"}, f"slow {n}", T0)
    await router.cycle()
    clock.now = T0 + timedelta(seconds=1)
    async with store.transaction():
        stored.add("urgent", "urgent", {"kind": "fast", "id": "urgent"}, "urgent one", clock.now)
    await router.cycle()
    assert [text for *_, text in queued() if "urgent one" in text]
