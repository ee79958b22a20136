"""The price feed, a daemon component: each source in use is polled on its own interval,
its quotes go into the book (and the database, so a restart shows the last price, as
stale), its failures back off without stopping the other sources. A symbol with a
fallback source is asked there while its own source fails."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import aiohttp
from loguru import logger

from daemon.policy.backoff import Backoff
from daemon.prices.quotes import Quote, QuoteBook
from daemon.prices.settings import PricesSettings, SymbolSettings
from daemon.prices.sources.binance import BinanceClient
from daemon.prices.sources.coingecko import CoinGeckoClient
from daemon.prices.sources.dexscreener import DexScreenerClient
from daemon.prices.sources.http import Blocked, Client, Fetched, SourceError, Throttled
from daemon.prices.sources.kraken import KrakenClient
from daemon.prices.sources.replay import SYNTHETIC, ReplayClient, load_ticks
from daemon.store import events
from daemon.store import quotes as stored_quotes
from daemon.store.database import Store
from daemon.waiting import pause

BLOCKED_RETRY = 3600.0  # a region block does not lift in seconds
BACKOFF_MAX = 600.0
STALENESS_CHECK = 5.0  # seconds between looks at which prices went stale


def build_clients(settings: PricesSettings, session: aiohttp.ClientSession) -> dict[str, Client]:
    """A client for each source some symbol uses (as its source or its fallback)."""
    used = {s.source for s in settings.symbols} | {
        s.fallback_source for s in settings.symbols if s.fallback_source
    }
    sources = settings.sources
    clients: dict[str, Client] = {}
    if "binance" in used:
        clients["binance"] = BinanceClient(session, sources.binance.base_url)
    if "coingecko" in used:
        cg = sources.coingecko
        clients["coingecko"] = CoinGeckoClient(session, cg.base_url, cg.vs_currency)
    if "kraken" in used:
        clients["kraken"] = KrakenClient(session, sources.kraken.base_url)
    if "dexscreener" in used:
        clients["dexscreener"] = DexScreenerClient(session, sources.dexscreener.base_url)
    if "replay" in used:
        replay = sources.replay
        ticks = load_ticks(Path(replay.file) if replay.file else SYNTHETIC)
        clients["replay"] = ReplayClient(ticks, replay.speed, time.monotonic)
    return clients


@dataclass
class SourceState:
    error: str = ""
    rejected: dict[str, str] = field(default_factory=dict)


class PriceFeed:
    name = "prices"

    def __init__(
        self,
        settings: PricesSettings,
        book: QuoteBook,
        store: Store,
        clock: Callable[[], datetime],
        clients: Callable[[aiohttp.ClientSession], Mapping[str, Client]] | None = None,
        staleness_check: float = STALENESS_CHECK,
    ):
        self._settings = settings
        self._book = book
        self._store = store
        self._clock = clock
        self._make_clients = clients or (lambda session: build_clients(settings, session))
        self._states: dict[str, SourceState] = {}
        self._staleness_check = staleness_check
        # Told of each batch of quotes kept, once stored (AutoSell evaluates them as ticks).
        self.listeners: list[Callable[[list[Quote]], Awaitable[None]]] = []

    async def run(self, stop: asyncio.Event) -> None:
        async with aiohttp.ClientSession() as session:
            clients = self._make_clients(session)
            self._states = {kind: SourceState() for kind in clients}
            polls = [
                asyncio.create_task(self._poll(kind, client, stop), name=f"prices.{kind}")
                for kind, client in clients.items()
            ]
            try:
                await self._watch_staleness(stop)
            finally:
                for task in polls:
                    task.cancel()
                await asyncio.gather(*polls, return_exceptions=True)

    async def _watch_staleness(self, stop: asyncio.Event) -> None:
        """Record a `stale_feed` event when a symbol's price goes stale (once per
        episode; alert routing tells whom it concerns), and note when it is fresh again."""
        stale: set[str] = set()
        while not await pause(stop, self._staleness_check):
            now_stale = set(self._book.stale_symbols())
            gone, back = now_stale - stale, stale - now_stale
            if gone or back:
                async with self._store.transaction():
                    for symbol in sorted(gone):
                        why = self._why_stale(symbol)
                        logger.warning("prices: {} is stale: {}", symbol, why)
                        detail = json.dumps({"symbol": symbol, "reason": why})
                        events.record("stale_feed", self._clock(), detail)
                for symbol in sorted(back):
                    logger.info("prices: {} is fresh again", symbol)
            stale = now_stale

    def _why_stale(self, symbol: str) -> str:
        try:
            self._book.fresh(symbol)
        except LookupError as exc:
            failing = "; ".join(
                f"{k}: {s.error}" for k, s in sorted(self._states.items()) if s.error
            )
            return str(exc) + (f" ({failing})" if failing else "")
        return "fresh again"

    def _asked(self, kind: str) -> dict[str, SymbolSettings]:
        """The source's ids and the symbols they price: its own symbols, and those it is
        the fallback of while their own source fails."""
        asked: dict[str, SymbolSettings] = {}
        for symbol in self._settings.symbols:
            if symbol.source == kind:
                asked[symbol.id] = symbol
            elif symbol.fallback_source == kind and self._failing(symbol.source):
                asked[symbol.fallback_id] = symbol
        return asked

    def _failing(self, kind: str) -> bool:
        state = self._states.get(kind)
        return state is not None and bool(state.error)

    async def _poll(self, kind: str, client: Client, stop: asyncio.Event) -> None:
        state = self._states[kind]
        interval = self._settings.source_interval(kind)
        backoff = Backoff(initial=interval, maximum=max(BACKOFF_MAX, interval))
        while not stop.is_set():
            asked = self._asked(kind)
            delay = interval
            if asked:
                try:
                    fetched = await client.fetch(list(asked))
                except Throttled as exc:
                    delay = max(exc.retry_after, interval)
                    self._failed(kind, state, f"{exc}; asking again in {delay:g}s")
                except Blocked as exc:
                    delay = BLOCKED_RETRY
                    self._failed(kind, state, str(exc))
                except SourceError as exc:
                    delay = backoff.next_delay(random.random())
                    self._failed(kind, state, str(exc))
                else:
                    backoff.reset()
                    await self._take(kind, state, asked, fetched)
            if await pause(stop, delay):
                return

    def _failed(self, kind: str, state: SourceState, error: str) -> None:
        if not state.error:
            logger.warning("prices: {} failed: {}", kind, error)
        state.error = error

    async def _take(
        self, kind: str, state: SourceState, asked: dict[str, SymbolSettings], fetched: Fetched
    ) -> None:
        if state.error:
            logger.info("prices: {} answers again", kind)
        state.error = ""
        if fetched.rejected != state.rejected:
            for source_id, reason in sorted(fetched.rejected.items()):
                logger.warning("prices: {} dropped {}: {}", kind, source_id, reason)
        state.rejected = dict(fetched.rejected)
        now = self._clock()
        kept = []
        for source_id, price in fetched.prices.items():
            symbol = asked[source_id]
            quote = Quote(symbol.name, price.price, kind, price.observed_at or now, now,
                          price.detail)  # fmt: skip
            if self._book.update(quote):
                kept.append(quote)
        if not kept:
            return
        # Every kept quote, moved or not: the digest judges freshness by what is stored.
        async with self._store.transaction():
            stored_quotes.save([stored_quotes.StoredQuote(q.symbol, q.price, kind, q.observed_at,
                                                          now) for q in kept])  # fmt: skip
        for listener in self.listeners:
            await listener(kept)

    def health(self) -> str | None:
        if not self._settings.symbols:
            return None
        stale = self._book.stale_symbols()
        failing = [f"{kind}: {s.error}" for kind, s in sorted(self._states.items()) if s.error]
        if not stale:
            return f"ok: {len(self._book.symbols)} symbols fresh"
        return "WARN: stale " + ", ".join(stale) + "".join(f"; {f}" for f in failing)

    def facts(self) -> Mapping[str, int | str]:
        if not self._settings.symbols:
            return {}
        stale = len(self._book.stale_symbols())
        return {"fresh": len(self._book.symbols) - stale, "stale": stale}
