"""Binance's public market data: GET /api/v3/ticker/price?symbols=["BTCUSDT",…].

One bad symbol fails the whole batch (HTTP 400, code -1121); the batch is then asked
one symbol at a time, the bad ones reported and the rest priced. No timestamp: the feed
stamps receipt time."""

from __future__ import annotations

import json
from collections.abc import Sequence

import aiohttp

from daemon.prices.sources.http import Fetched, Price, SourceError, get_json, read_price

INVALID_SYMBOL = -1121


class BinanceClient:
    kind = "binance"

    def __init__(self, session: aiohttp.ClientSession, base_url: str, timeout: float = 10.0):
        self._session = session
        self._url = f"{base_url.rstrip('/')}/api/v3/ticker/price"
        self._timeout = timeout

    async def fetch(self, ids: Sequence[str]) -> Fetched:
        fetched = Fetched()
        status, body = await self._ask(ids)
        if status == 400 and len(ids) > 1:
            for one in ids:
                fetched.prices.update((await self.fetch([one])).prices)
                if one not in fetched.prices:
                    fetched.rejected[one] = "Binance does not know this symbol"
            return fetched
        if status == 400:
            fetched.rejected[ids[0]] = "Binance does not know this symbol"
            return fetched
        if not isinstance(body, list):
            raise SourceError("Binance answered something other than a list of prices")
        for item in body:
            if not isinstance(item, dict) or item.get("symbol") not in ids:
                continue
            price = read_price(item.get("price"))
            if price is None:
                fetched.rejected[item["symbol"]] = f"price {item.get('price')!r} is not a price"
            else:
                fetched.prices[item["symbol"]] = Price(price, None)
        for missing in set(ids) - fetched.prices.keys() - fetched.rejected.keys():
            fetched.rejected[missing] = "missing from Binance's answer"
        return fetched

    async def _ask(self, ids: Sequence[str]) -> tuple[int, object]:
        params = {"symbols": json.dumps(list(ids), separators=(",", ":"))}
        status, body = await get_json(self._session, self._url, params, self._timeout, (200, 400))
        if status == 400 and not (isinstance(body, dict) and body.get("code") == INVALID_SYMBOL):
            raise SourceError(f"HTTP 400: {str(body)[:80]}")
        return status, body
