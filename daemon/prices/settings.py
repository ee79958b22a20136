"""`[prices]` in the TOML file: the symbols, their sources, how often to ask, when a price
is too old. A source table's `poll_interval` and `max_age` override the section's."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

from daemon import settings_schema as declare
from daemon.config import register_section

DAY = 86400.0
SOURCES = ("binance", "coingecko", "kraken", "dexscreener", "replay")
_SYMBOL = re.compile(r"[A-Z0-9]{1,20}/[A-Z0-9]{2,10}")


API = "the API's address (tests point it at a local server)"


def _url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("is not an http(s) URL")


def _symbol(value: str) -> None:
    if not _SYMBOL.fullmatch(value.upper()):
        raise ValueError("is not a symbol like BTC/USDT (base/quote)")


def _source(value: str) -> None:
    if value not in SOURCES:
        raise ValueError(f"is not a price source ({', '.join(SOURCES)})")


def _currency(value: str) -> None:
    if not re.fullmatch(r"[a-z]{2,10}", value):
        raise ValueError("is not a CoinGecko currency code like usd")


def _base_url(default: str) -> Any:
    return field(default=default, metadata=declare.text(_url, doc=API))


def _interval(doc: str) -> Any:
    return declare.seconds(1, DAY, doc)


@dataclass(frozen=True)
class BinanceSource:
    base_url: str = _base_url("https://data-api.binance.vision")
    poll_interval: float | None = field(default=None, metadata=_interval("overrides [prices]"))
    max_age: float | None = field(default=None, metadata=_interval("overrides [prices]"))


@dataclass(frozen=True)
class CoinGeckoSource:
    base_url: str = _base_url("https://api.coingecko.com")
    vs_currency: str = field(default="usd", metadata=declare.text(_currency, doc="quote currency"))
    # Keyless limits are low and shared by everyone behind the same IP address.
    poll_interval: float | None = field(default=60.0, metadata=_interval("keyless: slow"))
    max_age: float | None = field(default=180.0, metadata=_interval("overrides [prices]"))


@dataclass(frozen=True)
class KrakenSource:
    base_url: str = _base_url("https://api.kraken.com")
    poll_interval: float | None = field(default=None, metadata=_interval("overrides [prices]"))
    max_age: float | None = field(default=None, metadata=_interval("overrides [prices]"))


@dataclass(frozen=True)
class DexScreenerSource:
    base_url: str = _base_url("https://api.dexscreener.com")
    poll_interval: float | None = field(default=None, metadata=_interval("overrides [prices]"))
    max_age: float | None = field(default=None, metadata=_interval("overrides [prices]"))


@dataclass(frozen=True)
class ReplaySource:
    file: str = field(
        default="", metadata=declare.text(doc="ticks, CSV or JSONL (empty: the synthetic file)")
    )
    speed: float = field(default=1.0, metadata=declare.number(0.01, 10000, "1 = real time"))
    max_age: float | None = field(default=None, metadata=_interval("overrides [prices]"))


@dataclass(frozen=True)
class Sources:
    binance: BinanceSource = field(default_factory=BinanceSource)
    coingecko: CoinGeckoSource = field(default_factory=CoinGeckoSource)
    kraken: KrakenSource = field(default_factory=KrakenSource)
    dexscreener: DexScreenerSource = field(default_factory=DexScreenerSource)
    replay: ReplaySource = field(default_factory=ReplaySource)


@dataclass(frozen=True)
class SymbolSettings:
    symbol: str = field(metadata=declare.text(_symbol, doc="what commands use, BASE/QUOTE"))
    source: str = field(metadata=declare.text(_source, doc="where its price comes from"))
    id: str = field(metadata=declare.text(doc="the source's own name for it"))
    decimals: int = field(default=8, metadata=declare.number(0, 18, "base asset's places"))
    fallback_source: str = field(default="", metadata=declare.text(doc="asked when the "
                                                                   "source fails"))  # fmt: skip
    fallback_id: str = field(default="", metadata=declare.text(doc="the fallback's name"))

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise ValueError(f"id: {self.symbol} needs the source's id for it")
        if self.fallback_source:
            if self.fallback_source not in SOURCES or self.fallback_source == self.source:
                raise ValueError(
                    f"fallback_source: {self.fallback_source!r} is not another price source"
                )
            if not self.fallback_id:
                raise ValueError(f"fallback_id: {self.symbol} needs the fallback's id for it")

    @property
    def name(self) -> str:
        return self.symbol.upper()

    @property
    def base(self) -> str:
        return self.name.split("/")[0]

    @property
    def quote(self) -> str:
        return self.name.split("/")[1]


@dataclass(frozen=True)
class PricesSettings:
    # Built into the feed, the book and the broker at start: a reload keeps the old value.
    APPLIES_AT_START: ClassVar[bool] = True

    poll_interval: float = field(default=10.0, metadata=_interval("between polls of a source"))
    max_age: float = field(default=60.0, metadata=_interval("a quote older than this is stale"))
    sources: Sources = field(default_factory=Sources)
    symbols: tuple[SymbolSettings, ...] = ()

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for index, symbol in enumerate(self.symbols):
            if symbol.name in seen:
                raise ValueError(f"symbols[{index}]: {symbol.name} is listed twice")
            seen.add(symbol.name)
            vs_currency = self.sources.coingecko.vs_currency
            for kind in (symbol.source, symbol.fallback_source):
                if kind == "coingecko" and symbol.quote.lower() != vs_currency:
                    raise ValueError(
                        f"symbols[{index}]: {symbol.name} is quoted in {symbol.quote}, CoinGecko "
                        f"answers in {vs_currency} (sources.coingecko.vs_currency)"
                    )
                if kind == "dexscreener" and symbol.quote != "USD":
                    raise ValueError(
                        f"symbols[{index}]: DexScreener prices are in USD, not {symbol.quote}"
                    )

    def source_interval(self, kind: str) -> float:
        configured = getattr(getattr(self.sources, kind), "poll_interval", None)
        return float(configured) if configured is not None else self.poll_interval

    def max_ages(self) -> dict[str, float]:
        """Each symbol's max age: its source's, or the section's."""
        return {s.name: self.source_max_age(s.source) for s in self.symbols}

    def source_max_age(self, kind: str) -> float:
        configured = getattr(self.sources, kind).max_age
        return float(configured) if configured is not None else self.max_age


register_section("prices", PricesSettings)
