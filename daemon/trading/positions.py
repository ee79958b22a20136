"""Open positions valued at marks: the desk values them at the live book, the digest at
the last stored quotes. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from daemon.money import exact, total
from daemon.trading import journal
from daemon.trading.execution import Market


@dataclass(frozen=True)
class Position:
    symbol: str
    base: str
    qty: Decimal
    cost: Decimal  # of the open lots, fees excluded
    mark: Decimal | None  # the latest price, fresh or not; None if never seen
    fresh: bool

    @property
    @exact
    def average_cost(self) -> Decimal:
        return self.cost / self.qty

    @property
    @exact
    def value(self) -> Decimal | None:
        return None if self.mark is None else self.qty * self.mark

    @property
    @exact
    def unrealized(self) -> Decimal | None:
        value = self.value
        return None if value is None else value - self.cost


@exact
def positions(
    markets: Iterable[Market],
    lots: Iterable[tuple[str, Decimal, Decimal]],
    marks: Mapping[str, tuple[Decimal, bool]],
) -> tuple[Position, ...]:
    """One Position per market with open lots ((base, qty, cost) each), valued at
    `marks` (symbol → (price, fresh)), in symbol order."""
    qty: dict[str, list[Decimal]] = {}
    cost: dict[str, list[Decimal]] = {}
    for base, lot_qty, lot_cost in lots:
        qty.setdefault(base, []).append(lot_qty)
        cost.setdefault(base, []).append(lot_cost)
    found = []
    for market in sorted(markets, key=lambda m: m.symbol):
        if market.base not in qty:
            continue
        mark, fresh = marks.get(market.symbol, (None, False))
        found.append(Position(market.symbol, market.base, total(qty[market.base]),
                              total(cost[market.base]), mark, fresh))  # fmt: skip
    return tuple(found)


def holdings(
    kept: Mapping[tuple[str, str], Decimal], markets: Iterable[Market], quote: str
) -> list[tuple[str, Decimal, Decimal]]:
    """(base, qty, cost) per market held, from the kept balances: the holding is
    asset:X, its open lots' cost is trading:X in the quote currency (no lot is read)."""
    found = []
    for market in markets:
        qty = kept.get((journal.asset(market.base), market.base), Decimal(0))
        if qty:
            found.append((market.base, qty, kept.get((journal.trading(market.base), quote),
                                                     Decimal(0))))  # fmt: skip
    return found


@exact
def unrealized_total(held: Iterable[Position]) -> Decimal | None:
    """The open positions' unrealized P&L together; None while one has no price."""
    values = [p.unrealized for p in held]
    known = [v for v in values if v is not None]
    return total(known) if len(known) == len(values) else None


@exact
def equity(cash: Decimal, held: Iterable[Position]) -> Decimal | None:
    """Cash plus holdings at their marks; None while a holding has no price."""
    values = [p.value for p in held]
    if any(v is None for v in values):
        return None
    return cash + total([v for v in values if v is not None])
