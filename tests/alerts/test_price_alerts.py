"""Personal price alerts: the index finds exactly the levels a price crosses; /alert sets,
lists and deletes them with the reasons it refuses; the watcher fires each once, in the
chat it was set in, and a restart neither repeats nor loses one."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

from daemon.alerts.price_watch import Watch, Watches
from daemon.alerts.price_watcher import PriceAlerts
from daemon.prices.quotes import Quote, QuoteBook
from daemon.store.database import execute
from tests.support.commands import CommandHarness, make_harness

T0 = datetime(2026, 11, 30, 9, 0)
USER = 501


def test_the_index_fires_what_a_price_crosses() -> None:
    watches = Watches()
    for n, (above, level) in enumerate([(True, "100"), (True, "110"), (False, "90"),
                                         (False, "80")], start=1):  # fmt: skip
        watches.put(Watch(n, 1, 1, "X", above, D(level)))
    assert watches.crossed("X", D("95")) == []
    assert [w.id for w in watches.crossed("X", D("100"))] == [1]
    assert [w.id for w in watches.crossed("X", D("120"))] == [1, 2]
    assert [w.id for w in watches.crossed("X", D("85"))] == [3]
    assert sorted(w.id for w in watches.crossed("X", D("80"))) == [3, 4]
    watches.remove(1)
    assert [w.id for w in watches.crossed("X", D("120"))] == [2]
    assert watches.crossed("Y", D("1")) == []


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def rig(tmp_path: Path) -> tuple[CommandHarness, QuoteBook, Clock, PriceAlerts]:
    clock = Clock()
    book = QuoteBook({"BTC/USDT": 60.0, "ETH/USDT": 60.0}, clock)
    book.update(Quote("BTC/USDT", D("50000"), "binance", T0, T0))
    harness = make_harness(tmp_path)
    watcher = PriceAlerts(book, harness.store, clock)
    harness.services.price_alerts = watcher
    return harness, book, clock, watcher


async def say(h: CommandHarness, text: str, user: int = USER) -> str:
    return h.text(await h.run(text, user))


async def test_alert_sets_lists_deletes_and_says_why_not(tmp_path: Path) -> None:
    h, _, _, _ = rig(tmp_path)
    assert await say(h, "/alert btc/usdt > 51000") == (
        "Alert #1: I will tell you once when BTC/USDT rises to 51000."
    )
    assert await say(h, "/alert BTC/USDT <49000.5") == (
        "Alert #2: I will tell you once when BTC/USDT falls to 49000.5."
    )
    assert (
        await say(h, "/alert list")
        == "Your price alerts\n#1 BTC/USDT > 51000\n#2 BTC/USDT < 49000.5"
    )
    for text, reason in [
        ("/alert BTC/USDT > 49000", "Not set: BTC/USDT is already above 49000 (now 50000)"),
        ("/alert DOGE/USDT > 1", "Not set: no price source for DOGE/USDT (configured: BTC/USDT, "
                                 "ETH/USDT)"),
        ("/alert ETH/USDT > 1", "Not set: no price for ETH/USDT yet: an alert needs the price "
                                "now to tell a crossing"),
        ("/alert BTC/USDT = 1", "Not set: say > PRICE or < PRICE, e.g. /alert BTC/USDT > 65000"),
        ("/alert BTC/USDT > 1e9", "Not set: the price must be a plain decimal number like 0.25, "
                                  "got '1e9'"),
        ("/alert del 7", "You have no active alert #7."),
    ]:  # fmt: skip
        assert await say(h, text) == reason
    assert await say(h, "/alert del 2") == "Alert #2 deleted."
    assert await say(h, "/alert del 2", user=USER) == "You have no active alert #2."
    for n in range(9):
        await say(h, f"/alert BTC/USDT > {60000 + n}")
    assert await say(h, "/alert BTC/USDT > 70000") == (
        "Not set: you have 10 alerts set, the most there may be: /alert del ID frees one"
    )
    assert await say(h, "/alert list", user=USER + 1) == (
        "No price alert set. /alert BTC/USDT > 65000 sets one."
    )


def told() -> list[tuple[int, str]]:
    rows = execute("SELECT chat_id, text FROM outbox_message WHERE text LIKE '🔔%' ORDER BY id")
    return [(int(c), str(t)) for c, t in rows.fetchall()]


async def tick(watcher: PriceAlerts, book: QuoteBook, clock: Clock, price: str) -> None:
    clock.now += timedelta(seconds=1)
    quote = Quote("BTC/USDT", D(price), "binance", clock.now, clock.now)
    book.update(quote)
    await watcher.on_quotes([quote])
    for _ in range(10):
        await asyncio.sleep(0.01)


async def test_an_alert_fires_once_in_its_chat_and_not_again_after_a_restart(
    tmp_path: Path,
) -> None:
    h, book, clock, watcher = rig(tmp_path)
    await say(h, "/alert BTC/USDT > 51000")
    stop = asyncio.Event()
    running = asyncio.create_task(watcher.run(stop))
    await tick(watcher, book, clock, "50500")
    assert told() == []
    await tick(watcher, book, clock, "51200")
    await tick(watcher, book, clock, "52000")
    assert told() == [(USER, "🔔 BTC/USDT is above 51000: 51200 now (your alert #1, fired once)")]
    stop.set()
    await running
    again = PriceAlerts(book, h.store, clock)
    stop = asyncio.Event()
    running = asyncio.create_task(again.run(stop))
    await tick(again, book, clock, "53000")
    assert len(told()) == 1
    assert await say(h, "/alert list") == "No price alert set. /alert BTC/USDT > 65000 sets one."
    stop.set()
    await running
