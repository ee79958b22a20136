"""Paper trading put together from the settings: the quote book (with the last known
quotes, stale until refreshed), the price feed component, the markets the account may
trade, the broker and the desk commands use. [prices] and [paper] apply at start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from daemon.config import Settings
from daemon.prices.feed import PriceFeed
from daemon.prices.quotes import Quote, QuoteBook
from daemon.prices.settings import PricesSettings
from daemon.store import quotes as stored_quotes
from daemon.store.database import Store
from daemon.trading.broker import PaperBroker
from daemon.trading.desk import PaperDesk
from daemon.trading.execution import Market
from daemon.trading.settings import PaperSettings
from daemon.trading.snapshots import EquityRecorder


@dataclass(frozen=True)
class PaperTrading:
    desk: PaperDesk
    feed: PriceFeed
    book: QuoteBook
    recorder: EquityRecorder


def markets(prices: PricesSettings, paper: PaperSettings) -> dict[str, Market]:
    """The symbols quoted in the account's currency; the others are watch-only."""
    return {
        s.name: Market(s.name, s.base, s.quote, base_decimals=s.decimals)
        for s in prices.symbols
        if s.quote == paper.quote
    }


def last_known_quotes() -> list[Quote]:
    """The quotes the feed stored, one per symbol."""
    return [
        Quote(q.symbol, q.price, q.source, q.observed_at, q.received_at)
        for q in stored_quotes.load()
    ]


def assemble(
    settings: Settings, store: Store, clock: Callable[[], datetime]
) -> PaperTrading | None:
    """None when no symbol is configured: then there is nothing to price or trade."""
    prices: PricesSettings = settings.section("prices")
    paper: PaperSettings = settings.section("paper")
    if not prices.symbols:
        return None
    book = QuoteBook(prices.max_ages(), clock)
    book.restore(last_known_quotes())
    tradable = markets(prices, paper)
    broker = PaperBroker(tradable, paper.quote, paper.start_balance, paper.terms(), book, clock)
    desk = PaperDesk(broker, book, clock)
    feed = PriceFeed(prices, book, store, clock)
    return PaperTrading(desk, feed, book, EquityRecorder(desk, store))
