"""Each price source against a local HTTP server answering in that API's documented JSON:
success, a batch with a bad symbol, 429 with Retry-After, 451, 5xx, garbage, a timeout.
Prices arrive as exact decimals."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from datetime import datetime
from decimal import Decimal as D
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from daemon.prices.sources.binance import BinanceClient
from daemon.prices.sources.coingecko import CoinGeckoClient
from daemon.prices.sources.dexscreener import DexScreenerClient
from daemon.prices.sources.http import Blocked, Client, SourceError, Throttled
from daemon.prices.sources.kraken import KrakenClient, canonical
from tests.support.fake_api import FakeApi


async def test_binance_prices_a_batch_exactly(api: FakeApi, session: aiohttp.ClientSession) -> None:
    api.answer([{"symbol": "BTCUSDT", "price": "67123.45000001"},
                {"symbol": "ETHUSDT", "price": "3456.7"}])  # fmt: skip
    fetched = await BinanceClient(session, api.url).fetch(["BTCUSDT", "ETHUSDT"])
    assert {k: p.price for k, p in fetched.prices.items()} == {
        "BTCUSDT": D("67123.45000001"),
        "ETHUSDT": D("3456.7"),
    }
    assert fetched.rejected == {}
    assert api.requests[0].path == "/api/v3/ticker/price"
    assert json.loads(api.requests[0].query["symbols"]) == ["BTCUSDT", "ETHUSDT"]


async def test_binance_reports_a_bad_symbol_and_prices_the_others(
    api: FakeApi, session: aiohttp.ClientSession
) -> None:
    """Binance fails the whole batch on one invalid symbol (400, code -1121)."""

    async def respond(request: web.Request) -> web.StreamResponse:
        asked = json.loads(request.query["symbols"])
        if "NOPEUSDT" in asked:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        return web.json_response([{"symbol": s, "price": "1.5"} for s in asked])

    api.handler = respond
    fetched = await BinanceClient(session, api.url).fetch(["BTCUSDT", "NOPEUSDT", "ETHUSDT"])
    assert sorted(fetched.prices) == ["BTCUSDT", "ETHUSDT"]
    assert fetched.rejected == {"NOPEUSDT": "Binance does not know this symbol"}


def client_of(kind: str, session: aiohttp.ClientSession, url: str, timeout: float) -> Client:
    if kind == "binance":
        return BinanceClient(session, url, timeout)
    if kind == "coingecko":
        return CoinGeckoClient(session, url, "usd", timeout)
    if kind == "kraken":
        return KrakenClient(session, url, timeout)
    return DexScreenerClient(session, url, timeout)


IDS = {"binance": "BTCUSDT", "coingecko": "bitcoin", "kraken": "XBTUSD",
       "dexscreener": "ethereum/0x6982508145454ce325ddbe47a25d4ec3d2311933"}  # fmt: skip


@pytest.mark.parametrize("kind", list(IDS))
@pytest.mark.parametrize(
    ("status", "headers", "body", "error", "text"),
    [
        (429, {"Retry-After": "7"}, {}, Throttled, "HTTP 429: rate limited"),
        (418, {"Retry-After": "120"}, {}, Throttled, "HTTP 418: rate limited"),
        (451, {}, {"msg": "restricted location"}, Blocked,
         "HTTP 451: the source refuses requests from this host's region"),
        (502, {}, "<html>bad gateway</html>", SourceError, "HTTP 502"),
        (200, {}, "<html>not json</html>", SourceError, "HTTP 200 with a body that is not JSON"),
    ],
)  # fmt: skip
async def test_every_source_sorts_its_failures_into_the_feeds_classes(
    api: FakeApi,
    session: aiohttp.ClientSession,
    kind: str,
    status: int,
    headers: dict[str, str],
    body: Any,
    error: type[Exception],
    text: str,
) -> None:
    api.answer(body, status, headers)
    with pytest.raises(error) as raised:
        await client_of(kind, session, api.url, 10.0).fetch([IDS[kind]])
    assert str(raised.value) == text
    if isinstance(raised.value, Throttled):
        assert raised.value.retry_after == float(headers["Retry-After"])


@pytest.mark.parametrize(
    ("kind", "body", "text"),
    [
        (
            "binance",
            {"symbol": "BTCUSDT"},
            "Binance answered something other than a list of prices",
        ),
        ("coingecko", [], "CoinGecko answered something other than an object"),
        ("kraken", [], "Kraken answered something other than an object"),
        ("kraken", {"error": []}, "Kraken answered without a result"),
        ("dexscreener", {"pairs": None}, "DexScreener answered something other than a list"),
    ],
)
async def test_json_of_the_wrong_shape_is_a_source_error(
    api: FakeApi, session: aiohttp.ClientSession, kind: str, body: Any, text: str
) -> None:
    api.answer(body)
    with pytest.raises(SourceError) as raised:
        await client_of(kind, session, api.url, 10.0).fetch([IDS[kind]])
    assert str(raised.value) == text


@pytest.mark.parametrize("kind", list(IDS))
async def test_a_source_that_does_not_answer_in_time_is_a_source_error(
    api: FakeApi, session: aiohttp.ClientSession, kind: str
) -> None:
    async def stall(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(2)
        return web.json_response([])

    api.handler = stall
    with pytest.raises(SourceError) as raised:
        await client_of(kind, session, api.url, 0.3).fetch([IDS[kind]])
    assert str(raised.value) == "no answer within 0.3s"


async def test_a_price_that_is_not_a_positive_number_is_rejected(
    api: FakeApi, session: aiohttp.ClientSession
) -> None:
    api.answer([{"symbol": "BTCUSDT", "price": "-3"}, {"symbol": "ETHUSDT", "price": "NaN"}])
    fetched = await BinanceClient(session, api.url).fetch(["BTCUSDT", "ETHUSDT"])
    assert fetched.prices == {}
    assert fetched.rejected == {
        "BTCUSDT": "price '-3' is not a price",
        "ETHUSDT": "price 'NaN' is not a price",
    }


async def test_coingecko_reads_numbers_exactly_with_their_update_time(
    api: FakeApi, session: aiohttp.ClientSession
) -> None:
    """JSON numbers become Decimals without passing through float; unknown ids are left
    out of CoinGecko's answer and reported."""
    api.answer('{"bitcoin": {"usd": 67187.33912345678901, "last_updated_at": 1764417600}}')
    client = CoinGeckoClient(session, api.url, "usd")
    fetched = await client.fetch(["bitcoin", "not-a-coin"])
    assert fetched.prices["bitcoin"].price == D("67187.33912345678901")
    assert fetched.prices["bitcoin"].observed_at == datetime(2025, 11, 29, 12, 0, 0)
    assert fetched.rejected == {"not-a-coin": "CoinGecko does not know this id"}
    query = api.requests[0].query
    assert (query["ids"], query["vs_currencies"], query["include_last_updated_at"]) == (
        "bitcoin,not-a-coin",
        "usd",
        "true",
    )


async def test_kraken_matches_its_own_pair_names_and_splits_a_failed_batch(
    api: FakeApi, session: aiohttp.ClientSession
) -> None:
    async def respond(request: web.Request) -> web.StreamResponse:
        pairs = request.query["pair"].split(",")
        if "NOPEUSD" in pairs:
            return web.json_response({"error": ["EQuery:Unknown asset pair"]})
        names = {"XBTUSD": "XXBTZUSD", "ETHUSD": "XETHZUSD"}
        result = {names[p]: {"c": ["67000.10000", "0.0010"]} for p in pairs}
        return web.json_response({"error": [], "result": result})

    api.handler = respond
    fetched = await KrakenClient(session, api.url).fetch(["XBTUSD", "NOPEUSD", "ETHUSD"])
    assert {k: p.price for k, p in fetched.prices.items()} == {
        "XBTUSD": D("67000.10000"),
        "ETHUSD": D("67000.10000"),
    }
    assert fetched.rejected == {"NOPEUSD": "Kraken does not know this pair"}
    assert canonical("XXBTZUSD") == canonical("BTC/USD") == "BTCUSD"


async def test_kraken_service_errors_are_source_errors(
    api: FakeApi, session: aiohttp.ClientSession
) -> None:
    api.answer({"error": ["EService:Unavailable"]})
    with pytest.raises(SourceError, match="Kraken: EService:Unavailable"):
        await KrakenClient(session, api.url).fetch(["XBTUSD"])


async def test_dexscreener_takes_the_most_liquid_pair_and_says_which(
    api: FakeApi, session: aiohttp.ClientSession
) -> None:
    token = "0x6982508145454Ce325dDbE47a25d4ec3d2311933"
    pair = {"chainId": "ethereum", "dexId": "uniswap", "baseToken": {"address": token.lower()}}
    api.answer([
        {**pair, "pairAddress": "0xthin", "priceUsd": "0.0000101", "liquidity": {"usd": 5000}},
        {**pair, "pairAddress": "0xdeep0000000000", "priceUsd": "0.00001234",
         "liquidity": {"usd": 2500000.5}},
        {**pair, "pairAddress": "0xnoprice", "liquidity": {"usd": 9e9}},
    ])  # fmt: skip
    other = "ethereum/0x0000000000000000000000000000000000000001"
    fetched = await DexScreenerClient(session, api.url).fetch([f"ethereum/{token}", other])
    quote = fetched.prices[f"ethereum/{token}"]
    assert quote.price == D("0.00001234")
    assert quote.detail == "uniswap pair 0xdeep000000, $2,500,000 liquidity"
    assert fetched.rejected == {other: "no DexScreener pair with a USD price"}
    assert api.requests[0].path == f"/tokens/v1/ethereum/{token},{other.split('/')[1]}"


async def test_dexscreener_asks_at_most_30_addresses_a_call_300_calls_a_minute(
    api: FakeApi, session: aiohttp.ClientSession
) -> None:
    """65 tokens: three calls (30, 30, 5), spaced at least 0.2 s apart."""
    api.answer([])
    tokens = [f"bsc/0x{n:040x}" for n in range(65)]
    called: list[float] = []

    async def respond(request: web.Request) -> web.StreamResponse:
        called.append(time.monotonic())
        return web.json_response([])

    api.handler = respond
    await DexScreenerClient(session, api.url).fetch(tokens)
    assert [len(r.path.rsplit("/", 1)[1].split(",")) for r in api.requests] == [30, 30, 5]
    gaps = [later - earlier for earlier, later in itertools.pairwise(called)]
    assert min(gaps) >= 0.19
