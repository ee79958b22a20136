"""The quote book (fresh, stale, unknown, restored), replayed ticks, and the feed as a
component against local fake APIs and a real SQLite store: quotes flow into the book and
the database, a failing source backs off alone and hands its symbols to their fallback,
a 429's Retry-After is honoured, health says what is stale and why."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from daemon.prices.feed import PriceFeed
from daemon.prices.quotes import PriceUnavailable, Quote, QuoteBook
from daemon.prices.settings import (
    BinanceSource,
    KrakenSource,
    PricesSettings,
    Sources,
    SymbolSettings,
)
from daemon.prices.sources.binance import BinanceClient
from daemon.prices.sources.http import Client
from daemon.prices.sources.kraken import KrakenClient
from daemon.prices.sources.replay import SYNTHETIC, ReplayClient, ReplayError, load_ticks
from daemon.store import quotes as stored_quotes
from daemon.store import schema
from daemon.store.database import Store, execute, open_database
from tests.support.fake_api import FakeApi

T0 = datetime(2026, 11, 30, 9, 0, 0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_the_book_says_why_a_price_cannot_be_traded_on() -> None:
    clock = Clock()
    book = QuoteBook({"BTC/USDT": 60, "ETH/USDT": 60}, clock)
    with pytest.raises(PriceUnavailable, match=r"^no price for ETH/USDT yet$"):
        book.fresh("eth/usdt")
    with pytest.raises(PriceUnavailable) as unknown:
        book.fresh("DOGE/USDT")
    assert str(unknown.value) == "no price source for DOGE/USDT (configured: BTC/USDT, ETH/USDT)"
    book.update(Quote("BTC/USDT", D("60000.5"), "binance", T0, T0))
    assert book.fresh_price("btc/usdt") == D("60000.5")
    clock.now = T0 + timedelta(seconds=61)
    with pytest.raises(PriceUnavailable) as stale:
        book.fresh("BTC/USDT")
    assert str(stale.value) == "the price of BTC/USDT is stale: 61s old, from binance"
    assert book.stale_symbols() == ["BTC/USDT", "ETH/USDT"]


def test_an_older_observation_never_replaces_a_newer_one_and_restored_quotes_are_stale() -> None:
    clock = Clock()
    book = QuoteBook({"BTC/USDT": 60}, clock)
    book.restore([Quote("BTC/USDT", D("1"), "binance", T0, T0)])
    with pytest.raises(PriceUnavailable, match="stale"):
        book.fresh("BTC/USDT")  # as old as it is, it came from before the restart
    assert book.update(Quote("BTC/USDT", D("2"), "kraken", T0 - timedelta(seconds=5), T0))
    assert not book.update(Quote("BTC/USDT", D("3"), "binance", T0 - timedelta(seconds=9), T0))
    assert book.fresh_price("BTC/USDT") == D("2")


def test_ticks_load_from_csv_and_jsonl_and_bad_files_name_the_line(tmp_path: Path) -> None:
    ticks = load_ticks(SYNTHETIC)
    assert {t.symbol for t in ticks} == {"BTC/USDT", "ETH/USDT", "PEPE/USDT"}
    assert ticks[0].offset == 0
    assert "SYNTHETIC" in SYNTHETIC.read_text().splitlines()[0]
    lines = tmp_path / "ticks.jsonl"
    lines.write_text(
        '{"time": "2026-11-30T09:00:00Z", "symbol": "X/USD", "price": "1.5"}\n'
        '{"time": "2026-11-30T09:00:10Z", "symbol": "X/USD", "price": 2.25}\n'
    )
    assert [(t.offset, t.price) for t in load_ticks(lines)] == [(0, D("1.5")), (10, D("2.25"))]
    bad = tmp_path / "bad.csv"
    bad.write_text("# comment\ntime,symbol,price\n0,X/USD,1\n5,X/USD,-2\n")
    with pytest.raises(ReplayError) as refused:
        load_ticks(bad)
    assert str(refused.value) == f"{bad}:4: price '-2' is not a positive number"


async def test_replay_plays_at_its_speed_and_starts_again_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text("time,symbol,price\n0,X/USD,1\n10,X/USD,2\n20,X/USD,3\n")
    seconds = [100.0]
    client = ReplayClient(load_ticks(path), speed=2.0, clock=lambda: seconds[0])
    prices = []
    for elapsed in (0, 4, 6, 9.9, 10.5):  # replay positions 0, 8, 12, 19.8, 21 → 1
        seconds[0] = 100.0 + elapsed
        prices.append((await client.fetch(["X/USD"])).prices["X/USD"].price)
    assert prices == [D("1"), D("1"), D("2"), D("2"), D("1")]
    assert (await client.fetch(["Y/USD"])).rejected == {"Y/USD": "not in the replay file"}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    schema.upgrade(db)
    return Store(db)


def settings(*symbols: SymbolSettings, interval: float = 0.05) -> PricesSettings:
    # Built directly: the section's 1 s floor would make these tests slow.
    sources = Sources(binance=BinanceSource(), kraken=KrakenSource())
    return PricesSettings(poll_interval=interval, max_age=5.0, sources=sources, symbols=symbols)


def binance_at(api: FakeApi) -> Callable[[aiohttp.ClientSession], dict[str, Client]]:
    """The feed's clients: Binance, asking the fake API."""
    return lambda session: {"binance": BinanceClient(session, api.url)}


async def run_feed(feed: PriceFeed, seconds: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_quotes_flow_into_the_book_and_the_database(api: FakeApi, store: Store) -> None:
    api.answer([{"symbol": "BTCUSDT", "price": "60100.25"}])
    prices = settings(SymbolSettings("BTC/USDT", "binance", "BTCUSDT"))
    clock = Clock()
    book = QuoteBook({"BTC/USDT": 5.0}, clock)
    feed = PriceFeed(prices, book, store, clock, binance_at(api))
    await run_feed(feed, 0.3)
    assert book.fresh_price("BTC/USDT") == D("60100.25")
    assert feed.health() == "ok: 1 symbols fresh"
    assert feed.facts() == {"fresh": 1, "stale": 0}
    assert stored_quotes.load() == [
        stored_quotes.StoredQuote("BTC/USDT", D("60100.25"), "binance", T0, T0)
    ]


async def test_a_failing_source_hands_its_symbols_to_their_fallback(
    api: FakeApi, store: Store
) -> None:
    """Binance answers 502 (backing off); Kraken, BTC/USDT's fallback, prices it; a
    symbol on Binance without a fallback goes stale and health says why."""

    async def respond(request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/api/v3"):
            return web.Response(status=502, text="bad gateway")
        return web.json_response({"error": [], "result": {"XBTUSDT": {"c": ["59999.9", "1"]}}})

    api.handler = respond
    prices = settings(
        SymbolSettings("BTC/USDT", "binance", "BTCUSDT", fallback_source="kraken",
                       fallback_id="XBTUSDT"),
        SymbolSettings("ETH/USDT", "binance", "ETHUSDT"),
    )  # fmt: skip
    clock = Clock()
    book = QuoteBook({"BTC/USDT": 5.0, "ETH/USDT": 5.0}, clock)

    def clients(session: aiohttp.ClientSession) -> dict[str, Client]:
        return {
            "binance": BinanceClient(session, api.url),
            "kraken": KrakenClient(session, api.url),
        }

    feed = PriceFeed(prices, book, store, clock, clients)
    await run_feed(feed, 0.5)
    quote = book.fresh("BTC/USDT")
    assert (quote.price, quote.source) == (D("59999.9"), "kraken")
    assert feed.health() == "WARN: stale ETH/USDT; binance: HTTP 502"
    binance_calls = [r for r in api.requests if r.path.startswith("/api/v3")]
    # back-off: 0.05 s doubling (±25 %) over 0.5 s is at most 5 tries, not 10
    assert 2 <= len(binance_calls) <= 5


async def test_a_429_is_waited_out_as_long_as_it_says(api: FakeApi, store: Store) -> None:
    api.answer({"code": -1003, "msg": "Too many requests"}, 429, {"Retry-After": "30"})
    prices = settings(SymbolSettings("BTC/USDT", "binance", "BTCUSDT"))
    clock = Clock()
    book = QuoteBook({"BTC/USDT": 5.0}, clock)
    feed = PriceFeed(prices, book, store, clock, binance_at(api))
    await run_feed(feed, 0.5)
    assert len(api.requests) == 1
    assert feed.health() == (
        "WARN: stale BTC/USDT; binance: HTTP 429: rate limited; asking again in 30s"
    )
    assert json.loads(api.requests[0].query["symbols"]) == ["BTCUSDT"]


async def test_a_steady_price_is_stored_with_its_latest_observation(
    api: FakeApi, store: Store
) -> None:
    """The stored quote is what the digest values positions at and judges fresh: a price
    that did not move since the last poll is still stored as seen now, not as first seen."""
    api.answer([{"symbol": "BTCUSDT", "price": "60100.25"}])
    prices = settings(SymbolSettings("BTC/USDT", "binance", "BTCUSDT"))
    clock = Clock()
    book = QuoteBook({"BTC/USDT": 5.0}, clock)
    feed = PriceFeed(prices, book, store, clock, binance_at(api))
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop))
    await asyncio.sleep(0.2)
    clock.now = T0 + timedelta(seconds=30)
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(task, 5)
    later = T0 + timedelta(seconds=30)
    assert stored_quotes.load() == [
        stored_quotes.StoredQuote("BTC/USDT", D("60100.25"), "binance", later, later)
    ]


async def test_a_price_going_stale_is_recorded_once_for_alert_routing(
    api: FakeApi, store: Store
) -> None:
    api.answer([{"symbol": "BTCUSDT", "price": "60100.25"}])
    prices = settings(SymbolSettings("BTC/USDT", "binance", "BTCUSDT"))
    clock = Clock()
    book = QuoteBook({"BTC/USDT": 5.0}, clock)
    feed = PriceFeed(prices, book, store, clock, binance_at(api), staleness_check=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop))
    await asyncio.sleep(0.2)
    api.answer("down", status=503)
    clock.now = T0 + timedelta(seconds=30)
    await asyncio.sleep(0.4)  # several checks: one event
    stop.set()
    await asyncio.wait_for(task, 5)
    rows = execute("SELECT kind, detail FROM event WHERE kind = 'stale_feed'").fetchall()
    assert len(rows) == 1
    detail = json.loads(rows[0][1])
    assert detail["symbol"] == "BTC/USDT"
    assert detail["reason"].startswith("the price of BTC/USDT is stale: 30s old, from binance")
