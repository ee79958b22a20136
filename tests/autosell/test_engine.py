"""The engine as a component on a real database (SQLite and PostgreSQL), with the real
quote book, paper broker and desk: a buy arms the configured rule, a tick through the
stop sells once at the tick's price with the admins told at alert priority, a manual
sell shrinks the rule, a paused engine reports instead of selling and sells on /resume,
a restart finds the high-water mark where it was."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal as D

from daemon.autosell.decide import Costs
from daemon.autosell.engine import AutoSell
from daemon.autosell.settings import AutoSellSettings, RuleSettings
from daemon.prices.quotes import Quote, QuoteBook
from daemon.store import autosell as stored
from daemon.store.database import Store, execute
from daemon.store.outbox import Priority
from daemon.trading.broker import PaperBroker
from daemon.trading.desk import PaperDesk
from daemon.trading.execution import Market, Terms

T0 = datetime(2026, 11, 30, 9, 0)
ADMIN = 77


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    store: Store
    clock: Clock
    book: QuoteBook
    desk: PaperDesk
    engine: AutoSell
    queued: list[int] = field(default_factory=list)

    async def tick(self, price: str, seconds: float = 1) -> None:
        """A quote `seconds` after the last, handed to the engine as the feed would."""
        self.clock.now += timedelta(seconds=seconds)
        quote = Quote("BTC/USDT", D(price), "test", self.clock.now, self.clock.now)
        self.book.update(quote)
        await self.engine.on_quotes([quote])
        await settle()

    async def buy(self, qty: str, key: str) -> None:
        async with self.store.transaction():
            self.desk.buy(key, "BTC/USDT", qty)

    def sells(self) -> list[tuple[str, str, str]]:
        rows = execute("SELECT key, qty, price FROM paper_fill WHERE side = 'sell' ORDER BY id")
        return [(str(k), str(D(q).normalize()), str(D(p).normalize())) for k, q, p in rows]

    def notices(self) -> list[tuple[int, str]]:
        rows = execute("SELECT priority, text FROM outbox_message ORDER BY id").fetchall()
        return [(int(p), str(t)) for p, t in rows]


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.005)


def build(store: Store, clock: Clock, rules: AutoSellSettings) -> Rig:
    book = QuoteBook({"BTC/USDT": 60}, clock)
    market = {"BTC/USDT": Market("BTC/USDT", "BTC", "USDT")}
    broker = PaperBroker(market, "USDT", D("10000"), Terms(10, 5), book, clock)
    desk = PaperDesk(broker, book, clock)
    engine = AutoSell(rules, desk, book, store, clock, Costs(10, 5))
    desk.after_fill.append(engine.after_fill)
    engine.admins = lambda: [ADMIN]
    return Rig(store, clock, book, desk, engine)


async def running(rig: Rig) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(rig.engine.run(stop))
    await settle()
    return stop, task


async def holding(rig: Rig, qty: str) -> tuple[asyncio.Event, asyncio.Task[None]]:
    """The engine running, the price at 100, `qty` bought (arming the rule)."""
    stop, task = await running(rig)
    await rig.tick("100")
    await rig.buy(qty, "b1")
    return stop, task


def rules(**defaults: str | bool) -> AutoSellSettings:
    return AutoSellSettings(defaults=RuleSettings(**defaults))  # type: ignore[arg-type]


async def stopped(stop: asyncio.Event, task: asyncio.Task[None]) -> None:
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_a_buy_arms_the_rule_and_a_gap_through_the_stop_sells_once(store: Store) -> None:
    rig = build(store, Clock(), rules(sl="-5%"))
    stop, task = await holding(rig, "1")
    [armed] = [state for _, state in [(s, stored.rule(s)) for s in ["BTC/USDT"]] if state]
    assert (armed.held, armed.spec) == (D(1), "sl=-5%")
    await rig.tick("96")
    assert rig.sells() == []
    await rig.tick("90")  # through the stop at 95.05 (entry 100.05)
    await rig.tick("80")
    # Filled at the tick's price less slippage (5 bps), not at the level.
    assert rig.sells() == [("autosell:BTC/USDT:1:stop", "1", "89.955")]
    [(priority, text)] = rig.notices()
    assert priority == Priority.ALERT
    assert text.startswith("🔻 AutoSell BTC/USDT: stop-loss. Sold 1 at 89.955")
    event = json.loads(execute("SELECT detail FROM event WHERE kind = 'autosell'").fetchone()[0])
    assert (event["rule"], event["qty"], event["realized"]) == ("stop-loss", "1", "-10.095")
    assert rig.engine.facts()["rules"] == 0
    await stopped(stop, task)


async def test_a_manual_sell_shrinks_the_rule_and_a_ladder_sells_shares_of_the_armed_qty(
    store: Store,
) -> None:
    rig = build(store, Clock(), rules(tp="+10%:50%,+20%:50%"))
    stop, task = await holding(rig, "2")
    async with store.transaction():
        rig.desk.sell("s1", "BTC/USDT", "0.5")
    await rig.tick("111")
    assert rig.sells()[1:] == [("autosell:BTC/USDT:1:tp1", "1", "110.9445")]
    await rig.tick("121")
    assert rig.sells()[2:] == [("autosell:BTC/USDT:1:tp2", "0.5", "120.9395")]
    assert rig.desk.holding("BTC/USDT")[0] == 0
    await stopped(stop, task)


async def test_paused_it_reports_once_then_resume_sells_at_the_price_then(store: Store) -> None:
    rig = build(store, Clock(), rules(sl="-5%"))
    stop, task = await holding(rig, "1")
    async with store.transaction():
        rig.engine.pause("exchange incident")
    await rig.tick("90")
    await rig.tick("85")
    assert rig.sells() == []
    [(_, told)] = rig.notices()
    assert told.startswith("⏸ AutoSell is paused: BTC/USDT stop-loss crossed at 90")
    assert rig.engine.health() is not None
    assert "paused since" in str(rig.engine.health())
    async with store.transaction():  # a manual sale is not held back, and the rule follows
        rig.desk.sell("s1", "BTC/USDT", "0.4")
    async with store.transaction():
        rig.engine.resume()
    await settle()
    assert rig.sells() == [("s1", "0.4", "84.9575"), ("autosell:BTC/USDT:1:stop", "0.6", "84.9575")]
    assert "stop-loss — crossed during the pause. Sold 0.6 at 84.9575" in rig.notices()[-1][1]
    await stopped(stop, task)


async def test_the_high_water_mark_and_trailing_stop_survive_a_restart(store: Store) -> None:
    clock = Clock()
    rig = build(store, clock, rules(trail="10%"))
    stop, task = await holding(rig, "1")
    await rig.tick("150")
    await stopped(stop, task)
    again = build(store, clock, rules(trail="10%"))
    stop, task = await running(again)
    [view] = again.engine.views()
    assert (view.high, view.stop) == (D(150), (D("135.0"), "trailing stop"))
    await again.tick("136")
    assert again.sells() == []
    await again.tick("134")
    assert again.sells() == [("autosell:BTC/USDT:1:stop", "1", "133.933")]
    await stopped(stop, task)


async def test_a_time_exit_waits_for_a_fresh_price_and_says_so(store: Store) -> None:
    clock = Clock()
    rig = build(store, clock, rules(time="1m"))
    stop, task = await holding(rig, "1")
    clock.now += timedelta(seconds=120)  # past the deadline, and the price is stale
    rig.engine.wake()
    await settle()
    assert rig.sells() == []
    assert "time exit waits: the price of BTC/USDT is stale" in str(rig.engine.health())
    await rig.tick("101")
    assert rig.sells() == [("autosell:BTC/USDT:1:time", "1", "100.9495")]
    await stopped(stop, task)


async def test_waking_the_engine_leaves_no_timers_behind(store: Store) -> None:
    """Each tick wakes the engine; a wake must not leave its sleep's timer running (an
    hour long without a deadline), or a busy feed piles up tasks."""
    rig = build(store, Clock(), rules(sl="-5%"))
    stop, task = await running(rig)
    before = len(asyncio.all_tasks())
    for _ in range(50):
        await rig.engine.on_quotes([])
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    await settle()
    assert len(asyncio.all_tasks()) <= before
    await stopped(stop, task)
