"""The paper-trading commands on a real SQLite database with a quote book the test sets:
fills and their replies, refusals that say why and post nothing, a replayed update that
never fills twice, portfolio, P&L, the journal, public /price with staleness."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from daemon.prices.quotes import Quote, QuoteBook
from daemon.prices.settings import PricesSettings, SymbolSettings
from daemon.store.database import Store
from daemon.trading.assembly import markets
from daemon.trading.books import audit_store
from daemon.trading.broker import PaperBroker
from daemon.trading.desk import PaperDesk
from daemon.trading.settings import PaperSettings
from daemon.trading.snapshots import EquityRecorder
from tests.support.commands import NOW, CommandHarness, make_harness

ADMIN = 7
USER = 8
SYMBOLS = (
    SymbolSettings("BTC/USDT", "binance", "BTCUSDT"),
    SymbolSettings("PEPE/USDT", "binance", "PEPEUSDT", decimals=0),
    SymbolSettings("BTC/USD", "coingecko", "bitcoin"),
)


class Clock:
    now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def book(clock: Clock) -> QuoteBook:
    book = QuoteBook({s.name: 60.0 for s in SYMBOLS}, clock)
    book.update(Quote("BTC/USDT", D("50000"), "binance", NOW, NOW))
    book.update(Quote("PEPE/USDT", D("0.00001"), "binance", NOW, NOW))
    book.update(Quote("BTC/USD", D("50100"), "coingecko", NOW - timedelta(seconds=5), NOW))
    return book


@pytest.fixture
def harness(tmp_path: Path, book: QuoteBook, clock: Clock) -> CommandHarness:
    paper = PaperSettings()
    tradable = markets(PricesSettings(symbols=SYMBOLS), paper)

    def desk(store: Store) -> PaperDesk:
        broker = PaperBroker(tradable, "USDT", D("10000"), paper.terms(), book, clock)
        return PaperDesk(broker, book, clock)

    return make_harness(tmp_path, admin_ids=str(ADMIN), paper=desk)


async def say(
    harness: CommandHarness, text: str, user: int = ADMIN, origin: str | None = None
) -> str:
    return harness.text(await harness.run(text, user, origin=origin))


async def test_buy_then_sell_reply_with_the_fill_fee_position_and_cash(
    harness: CommandHarness,
) -> None:
    assert await say(harness, "/buy btc/usdt 0.1") == "\n".join([
        "Filled",
        "order — buy 0.1 BTC at 50025 USDT",
        "amount — 5002.5 USDT",
        "fee — 5.0025 USDT",
        "position — 0.1 BTC",
        "cash — 4992.4975 USDT",
    ])  # fmt: skip
    assert await say(harness, "/sell BTC/USDT 50%") == "\n".join([
        "Filled",
        "order — sell 0.05 BTC at 49975 USDT",
        "amount — 2498.75 USDT",
        "fee — 2.49875 USDT",
        "realized P&L — -2.5 USDT (before fees)",
        "position — 0.05 BTC",
        "cash — 7488.74875 USDT",
    ])  # fmt: skip
    assert (await say(harness, "/buy BTC/USDT $1000")).startswith("Filled\norder — buy 0.01997003")
    with harness.store.db.atomic():
        assert audit_store("USDT").problems == ()


async def test_a_replayed_update_never_fills_twice(harness: CommandHarness) -> None:
    first = await say(harness, "/buy BTC/USDT 0.1", origin="update:500")
    again = await say(harness, "/buy BTC/USDT 0.1", origin="update:500")
    assert first.startswith("Filled\n")
    assert again.startswith("Already filled (this order was seen before)\n")
    assert harness.query("SELECT COUNT(*) FROM paper_fill WHERE side = 'buy'") == [(1,)]


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/buy BTC/USDT 1", "Not filled: not enough USDT: buying 1 BTC needs 50075.025 with "
         "the fee, cash is 10000"),
        ("/sell BTC/USDT 1", "Not filled: no BTC held"),
        ("/buy BTC/USDT 0", "Not filled: quantity must be more than zero, got '0'"),
        ("/buy BTC/USDT NaN", "Not filled: quantity must be a plain decimal number like 0.25, "
         "got 'NaN'"),
        ("/buy BTC/USDT -1", "Not filled: quantity must be positive, got '-1'"),
        ("/buy BTC/USDT 99999999999999999", "Not filled: quantity must be a plain decimal "
         "number like 0.25, got '99999999999999999'"),
        ("/buy PEPE/USDT 1.5", "Not filled: PEPE is traded in steps of 1, got 1.5"),
        ("/buy DOGE/USDT 1", "Not filled: DOGE/USDT is not tradable here (tradable: "
         "BTC/USDT, PEPE/USDT)"),
        ("/buy BTC/USD 1", "Not filled: BTC/USD is watch-only: quoted in USD, the paper "
         "account in USDT"),
        ("/buy BTC/USDT", "Usage: /buy SYMBOL QTY|$AMOUNT"),
        ("/sell BTC/USDT 150%", "Not filled: no BTC held"),
    ],
)  # fmt: skip
async def test_refusals_say_why_and_post_nothing(
    harness: CommandHarness, command: str, answer: str
) -> None:
    assert await say(harness, command) == answer
    assert harness.query("SELECT COUNT(*) FROM paper_fill WHERE side != 'deposit'") == [(0,)]


async def test_a_stale_price_refuses_the_order(harness: CommandHarness, clock: Clock) -> None:
    clock.now = NOW + timedelta(seconds=90)
    assert await say(harness, "/buy BTC/USDT 0.1") == (
        "Not filled: the price of BTC/USDT is stale: 90s old, from binance"
    )


async def test_portfolio_pnl_and_ledger(harness: CommandHarness, book: QuoteBook) -> None:
    assert await say(harness, "/portfolio") == "\n".join([
        "Paper portfolio", "No open positions.", "cash — 10000 USDT", "equity — 10000 USDT",
    ])  # fmt: skip
    await say(harness, "/buy BTC/USDT 0.1")
    book.update(Quote("BTC/USDT", D("51000"), "binance", NOW, NOW))
    assert await say(harness, "/portfolio") == "\n".join([
        "Paper portfolio",
        "BTC/USDT — 0.1 BTC, average cost 50025, mark 51000, unrealized 97.5 USDT",
        "cash — 4992.4975 USDT",
        "equity — 10092.4975 USDT",
    ])  # fmt: skip
    # gained = realized − fees + unrealized = 0 − 5.0025 + 97.5
    assert await say(harness, "/pnl") == "\n".join([
        "P&L, all time",
        "equity now — 10092.4975 USDT",
        "gained — 92.4975 USDT (money put in left out)",
        "realized (closed lots) — 0 USDT",
        "fees paid — 5.0025 USDT",
        "unrealized (open now) — 97.5 USDT",
        "fills — 1",
    ])  # fmt: skip
    ledger = await say(harness, "/ledger 2")
    assert ledger.splitlines()[0] == "Journal, last 2"
    assert "#1 2026-11-29 12:00 contribution of 10000 USDT" in ledger
    assert "  cash:USDT -5007.5025 USDT" in ledger
    assert await say(harness, "/ledger 51") == "Usage: /ledger [N|csv] (N from 1 to 50)"
    assert await say(harness, "/pnl year") == "Usage: /pnl [day|week|month|all|chart]"


async def test_price_is_public_and_says_source_age_and_staleness(
    harness: CommandHarness, clock: Clock
) -> None:
    assert await say(harness, "/price btc/usd", user=USER) == "\n".join([
        "BTC/USD", "price — 50100", "source — coingecko", "age — 5s", "trading — watch-only",
    ])  # fmt: skip
    clock.now = NOW + timedelta(minutes=5)
    assert "age — 5m — stale" in await say(harness, "/price BTC/USDT", user=USER)
    assert await say(harness, "/price ETH/USDT", user=USER) == (
        "no price source for ETH/USDT (configured: BTC/USD, BTC/USDT, PEPE/USDT)"
    )


async def test_without_symbols_the_commands_say_what_to_configure(tmp_path: Path) -> None:
    bare = make_harness(tmp_path, admin_ids=str(ADMIN))
    assert await say(bare, "/portfolio") == (
        "Paper trading needs prices: add [[prices.symbols]] to the config (docs/paper.md)."
    )


async def test_pnl_of_a_period_starts_from_the_equity_at_local_midnight(
    harness: CommandHarness, book: QuoteBook, clock: Clock
) -> None:
    """Bought two days ago at 50,000 (equity then 9,992.4975, snapshotted with the
    fill); a snapshot an hour ago; now 51,000: the day gained 100, all time 92.4975."""
    clock.now = NOW - timedelta(days=2)
    await say(harness, "/buy BTC/USDT 0.1")
    clock.now = NOW - timedelta(hours=1)
    book.update(Quote("BTC/USDT", D("50500"), "binance", clock.now, clock.now))
    assert harness.services.paper is not None
    async with harness.store.transaction():
        harness.services.paper.snapshot()
    clock.now = NOW
    book.update(Quote("BTC/USDT", D("51000"), "binance", NOW, NOW))
    day = (await say(harness, "/pnl day")).splitlines()
    assert day[:3] == [
        "P&L this day (since 2026-11-29 00:00 UTC)",
        "equity now — 10092.4975 USDT",
        "gained — 100 USDT",
    ]
    assert day[-1] == "fills — 0"
    assert (await say(harness, "/pnl week")).splitlines()[0] == (
        "P&L this week (since 2026-11-23 00:00 UTC)"
    )
    assert "gained — 92.4975 USDT" in await say(harness, "/pnl month")
    assert harness.query("SELECT COUNT(*) FROM equity_snapshot") == [(3,)]


async def test_equity_is_snapshotted_periodically_between_fills(
    harness: CommandHarness, clock: Clock
) -> None:
    """The recorder component writes the equity every interval, fills or not."""
    assert harness.services.paper is not None
    recorder = EquityRecorder(harness.services.paper, harness.store, interval=0.05)
    await say(harness, "/portfolio")  # funds the account: the first snapshot
    stop = asyncio.Event()
    task = asyncio.create_task(recorder.run(stop))
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 2)
    rows = harness.query("SELECT equity FROM equity_snapshot")
    assert len(rows) >= 4
    assert {str(equity) for (equity,) in rows} == {"10000"}
