"""DexScreener: GET /tokens/v1/{chainId}/{address,address,…} (at most 30 addresses a
call, 300 calls a minute) → every pair trading those tokens. A token trades in several
pairs; its price is the USD price of the pair with the most USD liquidity, and the quote
says which pair that was. Prices are strings. An id is "chainId/tokenAddress"."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import aiohttp

from daemon.prices.sources.http import Fetched, Price, SourceError, get_json, read_price

MAX_ADDRESSES = 30
# 300 requests a minute: however many tokens are listed, calls are spaced this far apart.
MIN_GAP = 60.0 / 300


def _same(a: str, b: str) -> bool:
    # EVM addresses are hex in any case; Solana's are case-sensitive base58.
    return a == b or (a.startswith("0x") and a.lower() == b.lower())


def _liquidity(pair: dict[str, Any]) -> Decimal:
    liquidity = pair.get("liquidity")
    value = read_price(liquidity.get("usd")) if isinstance(liquidity, dict) else None
    return value or Decimal(0)


class DexScreenerClient:
    kind = "dexscreener"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._session = session
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._clock = clock
        self._last_call = -MIN_GAP

    async def fetch(self, ids: Sequence[str]) -> Fetched:
        fetched = Fetched()
        chains: dict[str, list[str]] = defaultdict(list)
        for token in ids:
            chain, _, address = token.partition("/")
            if not chain or not address:
                fetched.rejected[token] = "a DexScreener id is chainId/tokenAddress"
            else:
                chains[chain].append(address)
        for chain, addresses in chains.items():
            for start in range(0, len(addresses), MAX_ADDRESSES):
                batch = addresses[start : start + MAX_ADDRESSES]
                url = f"{self._base}/tokens/v1/{chain}/{','.join(batch)}"
                await asyncio.sleep(max(0.0, self._last_call + MIN_GAP - self._clock()))
                self._last_call = self._clock()
                _, pairs = await get_json(self._session, url, {}, self._timeout)
                if not isinstance(pairs, list):
                    raise SourceError("DexScreener answered something other than a list")
                for address in batch:
                    self._price(f"{chain}/{address}", address, pairs, fetched)
        return fetched

    @staticmethod
    def _price(token: str, address: str, pairs: list[Any], fetched: Fetched) -> None:
        trading = [
            pair
            for pair in pairs
            if isinstance(pair, dict)
            and isinstance(pair.get("baseToken"), dict)
            and _same(str(pair["baseToken"].get("address", "")), address)
            and read_price(pair.get("priceUsd")) is not None
        ]
        if not trading:
            fetched.rejected[token] = "no DexScreener pair with a USD price"
            return
        best = max(trading, key=_liquidity)
        price = read_price(best["priceUsd"])
        assert price is not None
        detail = (
            f"{best.get('dexId', '?')} pair {str(best.get('pairAddress', '?'))[:12]}, "
            f"${_liquidity(best):,.0f} liquidity"
        )
        fetched.prices[token] = Price(price, None, detail)
