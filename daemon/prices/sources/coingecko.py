"""CoinGecko's keyless API: GET /api/v3/simple/price?ids=…&vs_currencies=…
&include_last_updated_at=true. Unknown ids are left out of the answer. Prices come as
JSON numbers, read as exact decimals; `last_updated_at` is the observation time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import aiohttp

from daemon.prices.sources.http import Fetched, Price, SourceError, get_json, read_price


class CoinGeckoClient:
    kind = "coingecko"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        vs_currency: str,
        timeout: float = 10.0,
    ):
        self._session = session
        self._url = f"{base_url.rstrip('/')}/api/v3/simple/price"
        self._vs = vs_currency
        self._timeout = timeout

    async def fetch(self, ids: Sequence[str]) -> Fetched:
        params = {
            "ids": ",".join(ids),
            "vs_currencies": self._vs,
            "include_last_updated_at": "true",
        }
        _, body = await get_json(self._session, self._url, params, self._timeout)
        if not isinstance(body, dict):
            raise SourceError("CoinGecko answered something other than an object")
        fetched = Fetched()
        for coin in ids:
            entry = body.get(coin)
            if not isinstance(entry, dict):
                fetched.rejected[coin] = "CoinGecko does not know this id"
                continue
            price = read_price(entry.get(self._vs))
            if price is None:
                fetched.rejected[coin] = f"no {self._vs} price in CoinGecko's answer"
                continue
            fetched.prices[coin] = Price(price, _moment(entry.get("last_updated_at")))
        return fetched


def _moment(value: object) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**40:
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    return None
