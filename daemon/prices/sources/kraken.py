"""Kraken's public Ticker: GET /0/public/Ticker?pair=XBTUSD,ETHUSD.

Kraken answers with its own pair names (XBTUSD → XXBTZUSD, and BTC is XBT), which are
matched back to the ids asked. One unknown pair fails the whole call
("EQuery:Unknown asset pair"): the pairs are then asked one at a time. The last trade
price (`c[0]`) is the price; there is no timestamp."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp

from daemon.prices.sources.http import Fetched, Price, SourceError, get_json, read_price

UNKNOWN_PAIR = "EQuery:Unknown asset pair"
_ALIASES = {"XBT": "BTC", "XDG": "DOGE"}


def canonical(pair: str) -> str:
    """One spelling for a pair: 'XXBTZUSD', 'XBTUSD' and 'BTCUSD' are all 'BTCUSD'."""
    name = pair.upper().replace("/", "")
    if len(name) == 8 and name[0] in "XZ" and name[4] in "XZ":
        name = name[1:4] + name[5:]
    for alias, usual in _ALIASES.items():
        if name.startswith(alias):
            name = usual + name[len(alias) :]
    return name


class KrakenClient:
    kind = "kraken"

    def __init__(self, session: aiohttp.ClientSession, base_url: str, timeout: float = 10.0):
        self._session = session
        self._url = f"{base_url.rstrip('/')}/0/public/Ticker"
        self._timeout = timeout

    async def fetch(self, ids: Sequence[str]) -> Fetched:
        body = await self._ask(ids)
        fetched = Fetched()
        errors = body.get("error") or []
        if any(str(e).startswith(UNKNOWN_PAIR) for e in errors):
            if len(ids) == 1:
                fetched.rejected[ids[0]] = "Kraken does not know this pair"
                return fetched
            for one in ids:
                single = await self.fetch([one])
                fetched.prices.update(single.prices)
                fetched.rejected.update(single.rejected)
            return fetched
        if errors:
            raise SourceError(f"Kraken: {'; '.join(map(str, errors))[:120]}")
        result = body.get("result")
        if not isinstance(result, dict):
            raise SourceError("Kraken answered without a result")
        by_name = {canonical(name): ticker for name, ticker in result.items()}
        for pair in ids:
            ticker = by_name.get(canonical(pair))
            last = ticker.get("c") if isinstance(ticker, dict) else None
            price = read_price(last[0]) if isinstance(last, list) and last else None
            if price is None:
                fetched.rejected[pair] = "no last trade price in Kraken's answer"
            else:
                fetched.prices[pair] = Price(price, None)
        return fetched

    async def _ask(self, ids: Sequence[str]) -> dict[str, Any]:
        _, body = await get_json(self._session, self._url, {"pair": ",".join(ids)}, self._timeout)
        if not isinstance(body, dict):
            raise SourceError("Kraken answered something other than an object")
        return body
