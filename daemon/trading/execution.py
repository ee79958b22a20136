"""A market order against a price: the fill, its journal entry and the lots it opens or
closes, or the reason it is refused. Pure: the broker loads the book, calls `execute`
and writes what comes back in one transaction.

Fees are expensed when paid (`expense:fees`); a lot's cost excludes them. So the
realized P&L of a sell is its proceeds minus the cost of the lots it closed, and the
account's realized P&L is that sum minus all fees paid. Then, exactly:
realized + unrealized = equity − contributions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from daemon.money import bps, divide, exact, multiply, plain, quantize, step, total
from daemon.trading import journal
from daemon.trading.journal import Entry, Posting
from daemon.trading.lots import Closed, Lot, close_fifo, cost_of, floor_to, held

MAX_BPS = 1000  # fees and slippage beyond 10 % are a misconfiguration


class Side(Enum):
    BUY = "buy"
    SELL = "sell"


@dataclass(frozen=True)
class Market:
    """A tradable pair: `base` bought and sold for `quote`, kept to so many decimals."""

    symbol: str
    base: str
    quote: str
    base_decimals: int = 8
    quote_decimals: int = 8


@dataclass(frozen=True)
class Terms:
    fee_bps: int = 10
    slippage_bps: int = 5


@dataclass(frozen=True)
class Order:
    """A market order. Exactly one of `qty` (base units), `spend` (quote units, fee
    included; buys only) and `percent` (of holdings; sells only) is set. `key` makes it
    idempotent: the same key never fills twice."""

    key: str
    symbol: str
    side: Side
    qty: Decimal | None = None
    spend: Decimal | None = None
    percent: Decimal | None = None


@dataclass(frozen=True)
class Book:
    """What the account holds that an order on one market can touch."""

    cash: Decimal
    lots: tuple[Lot, ...]


@dataclass(frozen=True)
class Fill:
    key: str
    market: Market
    side: Side
    qty: Decimal
    price: Decimal  # the fill price: the quote moved by slippage
    mark: Decimal  # the quote it filled against
    gross: Decimal  # cost of a buy, proceeds of a sell, before the fee
    fee: Decimal
    realized: Decimal  # proceeds − cost of the closed lots; 0 for a buy
    entry: Entry
    closed: tuple[Closed, ...]
    lots_after: tuple[Lot, ...]  # the market's open lots after the fill; a new lot has id 0
    cash_after: Decimal

    @property
    @exact
    def cash_change(self) -> Decimal:
        return -(self.gross + self.fee) if self.side is Side.BUY else self.gross - self.fee

    def event(self) -> dict[str, str]:
        """What alert routing sees of a fill."""
        return {
            "kind": "fill",
            "symbol": self.market.symbol,
            "side": self.side.value,
            "qty": plain(self.qty),
            "price": plain(self.price),
            "fee": plain(self.fee),
            "realized": plain(self.realized),
        }


class OrderRefused(ValueError):
    """The order cannot fill as given; str() is the reason for the user. Nothing moved."""


NEW_LOT = 0


@exact
def execute(order: Order, market: Market, price: Decimal, book: Book, terms: Terms) -> Fill:
    if price <= 0:
        raise OrderRefused(f"no usable price for {market.symbol}: {plain(price)}")
    if order.side is Side.BUY:
        return _buy(order, market, price, book, terms)
    return _sell(order, market, price, book, terms)


@exact
def _buy(order: Order, market: Market, mark: Decimal, book: Book, terms: Terms) -> Fill:
    price = mark + bps(mark, terms.slippage_bps)
    if order.spend is not None:
        if order.spend <= 0:
            raise OrderRefused(f"amount must be more than zero, got {plain(order.spend)}")
        per_unit_with_fee = price + bps(price, terms.fee_bps)
        qty = floor_to(divide(order.spend, per_unit_with_fee), market.base_decimals)
        if qty == 0:
            raise OrderRefused(
                f"{plain(order.spend)} {market.quote} buys less than the smallest unit of "
                f"{market.base} at {plain(price)}"
            )
    else:
        qty = _quantity(order, market)
    cost = quantize(multiply(qty, price), market.quote_decimals)
    fee = quantize(bps(cost, terms.fee_bps), market.quote_decimals)
    if cost + fee > book.cash:
        raise OrderRefused(
            f"not enough {market.quote}: buying {plain(qty)} {market.base} needs "
            f"{plain(cost + fee)} with the fee, cash is {plain(book.cash)}"
        )
    q, b = market.quote, market.base
    entry = journal.entry(
        f"buy {plain(qty)} {b} at {plain(price)} {q}",
        Posting(journal.asset(b), b, qty),
        Posting(journal.trading(b), b, -qty),
        Posting(journal.trading(b), q, cost),
        Posting(journal.FEES, q, fee),
        Posting(journal.cash(q), q, -(cost + fee)),
    )
    lots = (*book.lots, Lot(NEW_LOT, qty, cost))
    return Fill(order.key, market, Side.BUY, qty, price, mark, cost, fee, Decimal(0),
                entry, (), lots, book.cash - cost - fee)  # fmt: skip


@exact
def _sell(order: Order, market: Market, mark: Decimal, book: Book, terms: Terms) -> Fill:
    holding = held(book.lots)
    if holding == 0:
        raise OrderRefused(f"no {market.base} held")
    if order.percent is not None:
        if not 0 < order.percent <= 100:
            raise OrderRefused(
                f"a share to sell is more than 0% and at most 100%, got {plain(order.percent)}%"
            )
        qty = floor_to(divide(multiply(holding, order.percent), Decimal(100)), market.base_decimals)
        if qty == 0:
            raise OrderRefused(
                f"{plain(order.percent)}% of {plain(holding)} {market.base} is less than "
                "the smallest unit"
            )
    else:
        qty = _quantity(order, market)
        if qty > holding:
            raise OrderRefused(f"cannot sell {plain(qty)} {market.base}: {plain(holding)} held")
    price = mark - bps(mark, terms.slippage_bps)
    proceeds = quantize(multiply(qty, price), market.quote_decimals)
    fee = quantize(bps(proceeds, terms.fee_bps), market.quote_decimals)
    closed, lots = close_fifo(book.lots, qty, proceeds, market.quote_decimals)
    basis = total([part.cost for part in closed])
    realized = proceeds - basis
    q, b = market.quote, market.base
    entry = journal.entry(
        f"sell {plain(qty)} {b} at {plain(price)} {q}",
        Posting(journal.asset(b), b, -qty),
        Posting(journal.trading(b), b, qty),
        Posting(journal.trading(b), q, -basis),
        Posting(journal.REALIZED, q, -realized),
        Posting(journal.FEES, q, fee),
        Posting(journal.cash(q), q, proceeds - fee),
    )
    return Fill(order.key, market, Side.SELL, qty, price, mark, proceeds, fee, realized,
                entry, closed, lots, book.cash + proceeds - fee)  # fmt: skip


def _quantity(order: Order, market: Market) -> Decimal:
    if order.qty is None:
        raise OrderRefused(f"a {order.side.value} order needs a quantity")
    qty = order.qty
    if qty <= 0:
        raise OrderRefused(f"quantity must be more than zero, got {plain(qty)}")
    if qty != floor_to(qty, market.base_decimals):
        raise OrderRefused(
            f"{market.base} is traded in steps of {plain(step(market.base_decimals))}, "
            f"got {plain(qty)}"
        )
    return qty


@exact
def contribution(quote: str, amount: Decimal) -> Entry:
    """Money put into the account (the start balance)."""
    return journal.entry(
        f"contribution of {plain(amount)} {quote}",
        Posting(journal.cash(quote), quote, amount),
        Posting(journal.CONTRIBUTIONS, quote, -amount),
    )


@exact
def unrealized(lots: tuple[Lot, ...], mark: Decimal) -> Decimal:
    """What the open lots would gain (or lose) sold at `mark`, before fees; unrounded."""
    return multiply(held(lots), mark) - cost_of(lots)
