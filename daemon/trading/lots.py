"""FIFO lots: what was bought, when, at what cost; a sell closes the oldest first. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal

from daemon.money import MONEY_CONTEXT, divide, exact, multiply, quantize, step, total


@dataclass(frozen=True)
class Lot:
    """An open lot: `qty` of the base asset still held from one buy, and the part of
    that buy's cost (quote currency, fees excluded) that `qty` still carries."""

    id: int
    qty: Decimal
    cost: Decimal


@dataclass(frozen=True)
class Closed:
    """The part of a lot a sell closed: its quantity, the cost it carried and the
    proceeds it brought (both in the quote currency)."""

    lot_id: int
    qty: Decimal
    cost: Decimal
    proceeds: Decimal

    @property
    @exact
    def realized(self) -> Decimal:
        return self.proceeds - self.cost


def held(lots: Sequence[Lot]) -> Decimal:
    return total([lot.qty for lot in lots])


def cost_of(lots: Sequence[Lot]) -> Decimal:
    return total([lot.cost for lot in lots])


def share(amount: Decimal, part: Decimal, whole: Decimal, decimals: int) -> Decimal:
    """`amount` × part/whole rounded to `decimals`; the whole of it when part is whole,
    so shares of a split always add back up exactly."""
    if part == whole:
        return amount
    return quantize(divide(multiply(amount, part), whole), decimals)


@exact
def close_fifo(
    lots: Sequence[Lot], qty: Decimal, proceeds: Decimal, quote_decimals: int
) -> tuple[tuple[Closed, ...], tuple[Lot, ...]]:
    """Close `qty` from `lots` (oldest first), sharing `proceeds` among the parts in
    proportion to quantity. Returns the closed parts and the lots left open; the parts'
    cost and proceeds sum exactly to what they came from. ValueError if `qty` is more
    than the lots hold."""
    if qty > held(lots):
        raise ValueError(f"closing {qty} from lots holding {held(lots)}")
    closed: list[Closed] = []
    left, proceeds_left = qty, proceeds
    remaining = list(lots)
    while left > 0:
        lot = remaining.pop(0)
        take = min(left, lot.qty)
        cost = share(lot.cost, take, lot.qty, quote_decimals)
        gained = share(proceeds_left, take, left, quote_decimals)
        closed.append(Closed(lot.id, take, cost, gained))
        if take < lot.qty:
            remaining.insert(0, replace(lot, qty=lot.qty - take, cost=lot.cost - cost))
        left -= take
        proceeds_left -= gained
    return tuple(closed), tuple(remaining)


def floor_to(amount: Decimal, decimals: int) -> Decimal:
    """`amount` cut down to `decimals` places (a quantity never rounds up past what
    money or holdings allow)."""
    return amount.quantize(step(decimals), rounding=ROUND_DOWN, context=MONEY_CONTEXT)
