"""Quotes and the book of the latest one per symbol. Pure: the clock is passed in."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Quote:
    symbol: str
    price: Decimal
    source: str
    observed_at: datetime  # when the source says the price held; receipt time if it says not
    received_at: datetime
    detail: str = ""  # e.g. which DEX pair a DexScreener price came from


class PriceUnavailable(LookupError):
    """No price to trade on; str() says why (unknown symbol, none yet, stale)."""


def age_text(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


class QuoteBook:
    """The latest quote per configured symbol; a quote older than its symbol's max age
    is stale, and nothing trades on it. Quotes loaded from the database at start are
    marked as such: they are shown, never traded on, until a fresh one arrives."""

    def __init__(self, max_age: Mapping[str, float], clock: Callable[[], datetime]):
        self._max_age = {symbol.upper(): age for symbol, age in max_age.items()}
        self._clock = clock
        self._latest: dict[str, Quote] = {}
        self._restored: set[str] = set()

    @property
    def symbols(self) -> list[str]:
        return sorted(self._max_age)

    def restore(self, quotes: Iterable[Quote]) -> None:
        for quote in quotes:
            if quote.symbol in self._max_age:
                self._latest[quote.symbol] = quote
                self._restored.add(quote.symbol)

    def update(self, quote: Quote) -> bool:
        """Keep `quote` unless an observation at least as recent is kept; True if kept."""
        kept = self._latest.get(quote.symbol)
        restored = quote.symbol in self._restored
        if kept is not None and not restored and kept.observed_at > quote.observed_at:
            return False
        self._latest[quote.symbol] = quote
        self._restored.discard(quote.symbol)
        return True

    def latest(self, symbol: str) -> Quote | None:
        return self._latest.get(symbol.upper())

    def is_fresh(self, symbol: str) -> bool:
        try:
            self.fresh(symbol)
        except PriceUnavailable:
            return False
        return True

    def fresh_price(self, symbol: str) -> Decimal:
        """What the broker trades at (the Prices interface)."""
        return self.fresh(symbol).price

    def fresh(self, symbol: str) -> Quote:
        """The symbol's quote if it may be traded on; PriceUnavailable saying why not."""
        now = self._clock()
        key = symbol.upper()
        if key not in self._max_age:
            known = ", ".join(self.symbols) or "none"
            raise PriceUnavailable(f"no price source for {symbol} (configured: {known})")
        quote = self._latest.get(key)
        if quote is None:
            raise PriceUnavailable(f"no price for {key} yet")
        age = (now - quote.observed_at).total_seconds()
        if key in self._restored or age > self._max_age[key]:
            raise PriceUnavailable(
                f"the price of {key} is stale: {age_text(max(age, 0))} old, from {quote.source}"
            )
        return quote

    def stale_symbols(self) -> list[str]:
        return [symbol for symbol in self.symbols if not self.is_fresh(symbol)]

    def marks(self) -> dict[str, tuple[Decimal, bool]]:
        """Each symbol's latest price, fresh or not, and whether it is fresh: what
        positions are valued at."""
        return {
            symbol: (quote.price, self.is_fresh(symbol)) for symbol, quote in self._latest.items()
        }
