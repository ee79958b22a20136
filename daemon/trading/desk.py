"""The paper-trading service commands call: it reads what users typed into orders, asks
the broker, and answers with plain data (no Telegram, no formatting). Refusals are
OrderRefused with the reason; everything runs in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
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
from daemon.trading.positions import Position, equity, holdings, positions, unrealized_total


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

    @property
    def unrealized(self) -> Decimal | None:
        return unrealized_total(self.positions)

    def position(self, symbol: str) -> Position | None:
        return next((p for p in self.positions if p.symbol == symbol), None)


@dataclass(frozen=True)
class Placed:
    """An order's fill and the account just after it."""

    market: Market
    fill: FillRecord
    portfolio: Portfolio


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


@dataclass(frozen=True)
class Fills:
    """What the fills of a while add up to."""

    realized: Decimal  # of the lots they closed, before fees
    fees: Decimal
    count: int


def fills_since(since: datetime | None) -> Fills:
    """The buys' and sells' totals since `since` (all time: None); deposits left out."""
    fills = [f for f in ledger.fills_since(since or datetime.min) if f.side != "deposit"]
    return Fills(total([f.realized for f in fills]), total([f.fee for f in fills]), len(fills))


class PaperDesk:
    def __init__(self, broker: PaperBroker, book: QuoteBook, clock: Callable[[], datetime]):
        self._broker = broker
        self._book = book
        self._markets = broker.markets
        self._clock = clock
        # Called with each new fill in its transaction (AutoSell arms rules on a buy).
        self.after_fill: list[Callable[[FillRecord], None]] = []

    @property
    def quote(self) -> str:
        return self._broker.quote

    def market(self, symbol: str) -> Market:
        if symbol.upper() not in self._markets and symbol.upper() in self._book.symbols:
            quote = symbol.upper().split("/")[-1]
            raise OrderRefused(
                f"{symbol.upper()} is watch-only: quoted in {quote}, the paper account in "
                f"{self.quote}"
            )
        return self._broker.market(symbol)

    def buy(self, key: str, symbol: str, amount: str) -> Placed:
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
        return self.place(order)

    def sell(self, key: str, symbol: str, amount: str) -> Placed:
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
        return self.place(order)

    def place(self, order: Order) -> Placed:
        """Fill `order`, record the equity after it, tell the `after_fill` hooks."""
        market = self._broker.market(order.symbol)
        fill = self.fill_only(order)
        after = self.portfolio()
        if not fill.replayed:
            self._record(after)
            for hook in self.after_fill:
                hook(fill)
        return Placed(market, fill, after)

    def fill_only(self, order: Order) -> FillRecord:
        """The fill and nothing more: no portfolio read (it grows with the positions),
        no equity snapshot (the recorder takes one within minutes), no hooks. For
        AutoSell, acting on its own rule, where a tick's sale must commit in
        milliseconds."""
        return self._broker.fill(order)

    @exact
    def holding(self, symbol: str) -> tuple[Decimal, Decimal]:
        """(quantity held, average cost per unit) of a market's base, from the kept
        balances (the open lots' cost is trading:BASE in the quote currency)."""
        market = self._broker.market(symbol)
        qty = ledger.balance(journal.asset(market.base), market.base)
        if qty <= 0:
            return Decimal(0), Decimal(0)
        return qty, ledger.balance(journal.trading(market.base), market.quote) / qty

    def snapshot(self) -> None:
        """Record the equity now (each order placed, and periodically), for /pnl's periods."""
        self._record(self.portfolio())

    def _record(self, held: Portfolio) -> None:
        # Not while a holding has no price at all.
        if held.equity is not None:
            ledger.record_snapshot(self._clock(), held.equity, held.cash)

    def portfolio(self) -> Portfolio:
        """Positions from the kept balances (holding: asset:X; its open lots' cost:
        trading:X in the quote currency), not from the lots: one small read."""
        self._broker.ensure_funded()
        kept = ledger.balances()
        quote = self.quote
        tradable = self._markets.values()
        held = positions(tradable, holdings(kept, tradable, quote), self._book.marks())
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
    def change_since(self, since: datetime | None, held: Portfolio) -> Decimal | None:
        """Equity gained since `since` (all time: None), money put in left out; None
        while a holding has no price."""
        if held.equity is None:
            return None
        if since is None:
            return held.equity - held.contributions
        before = ledger.equity_at(since)
        return held.equity - (before or Decimal(0)) - ledger.deposits_since(since)

    def journal(self, count: int) -> list[JournalEntry]:
        return [
            JournalEntry(row.id, row.created_at, row.memo, tuple(
                journal.Posting(account, commodity, amount)
                for account, commodity, amount in row.postings))
            for row in ledger.last_transactions(count)
        ]  # fmt: skip
