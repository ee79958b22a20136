"""The paper-trading service commands call: it reads what users typed into orders, asks
the broker, and answers with plain data (no Telegram, no formatting). Refusals are
OrderRefused with the reason; everything runs in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from daemon.money import AmountError, exact, read_amount, total
from daemon.prices.quotes import PriceUnavailable, Quote, QuoteBook
from daemon.store import ledger
from daemon.store.ledger import FillRecord
from daemon.trading import journal
from daemon.trading.broker import PaperBroker
from daemon.trading.execution import Market, Order, OrderRefused, Side
from daemon.trading.positions import Position, equity, holdings, positions


@dataclass(frozen=True)
class Portfolio:
    quote: str
    cash: Decimal
    positions: tuple[Position, ...]
    contributions: Decimal

    @property
    def equity(self) -> Decimal | None:
        """Cash plus holdings at their marks; None while a holding has no price."""
        return equity(self.cash, self.positions)


@dataclass(frozen=True)
class PriceView:
    quote: Quote
    age_seconds: float
    fresh: bool
    tradable: bool


@dataclass(frozen=True)
class JournalEntry:
    id: int
    created_at: datetime
    memo: str
    postings: tuple[journal.Posting, ...]


class PaperDesk:
    def __init__(
        self,
        broker: PaperBroker,
        book: QuoteBook,
        markets: Mapping[str, Market],
        clock: Callable[[], datetime],
    ):
        self._broker = broker
        self._book = book
        self._markets = {symbol.upper(): market for symbol, market in markets.items()}
        self._clock = clock

    @property
    def quote(self) -> str:
        return self._broker.quote

    def market(self, symbol: str) -> Market:
        known = self._book.latest(symbol) is not None or symbol.upper() in self._book.symbols
        if symbol.upper() not in self._markets and known:
            quote = symbol.upper().split("/")[-1]
            raise OrderRefused(
                f"{symbol.upper()} is watch-only: quoted in {quote}, the paper account in "
                f"{self.quote}"
            )
        return self._broker.market(symbol)

    def buy(self, key: str, symbol: str, amount: str) -> tuple[Market, FillRecord]:
        """`amount`: a quantity of the base asset, or `$N` to spend N of the quote
        currency, fee included."""
        market = self.market(symbol)
        try:
            if amount.startswith("$"):
                order = Order(key, market.symbol, Side.BUY, spend=read_amount(amount[1:], "amount"))
            else:
                order = Order(key, market.symbol, Side.BUY, qty=read_amount(amount, "quantity"))
        except AmountError as exc:
            raise OrderRefused(str(exc)) from None
        return market, self._filled(order)

    def sell(self, key: str, symbol: str, amount: str) -> tuple[Market, FillRecord]:
        """`amount`: a quantity, `all`, or `N%` of the holding."""
        market = self.market(symbol)
        try:
            if amount.lower() == "all":
                order = Order(key, market.symbol, Side.SELL, percent=Decimal(100))
            elif amount.endswith("%"):
                percent = read_amount(amount[:-1], "percentage")
                order = Order(key, market.symbol, Side.SELL, percent=percent)
            else:
                order = Order(key, market.symbol, Side.SELL, qty=read_amount(amount, "quantity"))
        except AmountError as exc:
            raise OrderRefused(str(exc)) from None
        return market, self._filled(order)

    def _filled(self, order: Order) -> FillRecord:
        fill = self._broker.fill(order)
        if not fill.replayed:
            self.snapshot()
        return fill

    def snapshot(self) -> None:
        """Record the equity now (every fill, and periodically), for /pnl's periods; not
        while a holding has no price at all."""
        held = self.portfolio()
        if held.equity is not None:
            ledger.record_snapshot(self._clock(), held.equity, held.cash)

    def portfolio(self) -> Portfolio:
        """Positions from the kept balances (holding: asset:X; its open lots' cost:
        trading:X in the quote currency), not from the lots: one small read."""
        self._broker.ensure_funded()
        kept = ledger.balances()
        quote = self.quote
        marks = {}
        for symbol in self._markets:
            latest = self._book.latest(symbol)
            if latest is not None:
                marks[symbol] = (latest.price, self._book.is_fresh(symbol))
        held = positions(
            self._markets.values(), holdings(kept, self._markets.values(), quote), marks
        )
        cash = kept.get((journal.cash(quote), quote), Decimal(0))
        contributions = -kept.get((journal.CONTRIBUTIONS, quote), Decimal(0))
        return Portfolio(quote, cash, held, contributions)

    def price(self, symbol: str) -> PriceView:
        quote = self._book.latest(symbol)
        if quote is None:
            try:
                self._book.fresh(symbol)  # says why: unknown, or no price yet
            except PriceUnavailable as exc:
                raise OrderRefused(str(exc)) from None
            raise AssertionError("a symbol without a quote cannot be fresh")
        age = max((self._clock() - quote.observed_at).total_seconds(), 0.0)
        return PriceView(quote, age, self._book.is_fresh(symbol), symbol.upper() in self._markets)

    @exact
    def change_since(self, since: datetime | None, equity_now: Decimal) -> Decimal:
        """Equity gained since `since` (all time: None), money put in left out."""
        if since is None:
            return equity_now + ledger.balance(journal.CONTRIBUTIONS, self.quote)
        before = ledger.equity_at(since)
        return equity_now - (before or Decimal(0)) - ledger.deposits_since(since)

    def realized_since(self, since: datetime | None) -> tuple[Decimal, Decimal, int]:
        """(realized P&L of lots closed, fees paid, fills) since `since` (all: None)."""
        fills = [f for f in ledger.fills_since(since or datetime.min) if f.side != "deposit"]
        return (
            total([f.realized for f in fills]),
            total([f.fee for f in fills]),
            len(fills),
        )

    def journal(self, count: int) -> list[JournalEntry]:
        return [
            JournalEntry(row.id, row.created_at, row.memo, tuple(
                journal.Posting(account, commodity, amount)
                for account, commodity, amount in row.postings))
            for row in ledger.last_transactions(count)
        ]  # fmt: skip
