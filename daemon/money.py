"""Exact amounts: Decimal only, read strictly from text, rounded per commodity. Pure;
shared by trading/ (the arithmetic) and store/ (balances kept as they are posted).

Python's default decimal context keeps 28 significant digits and rounds silently past
them; an 18-decimal token quantity times a price needs more. Every computation here runs
in MONEY_CONTEXT, wide enough that nothing is rounded except where `quantize` says so,
and trapping what would otherwise turn into NaN or Infinity.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import ParamSpec, TypeVar

MONEY_CONTEXT = Context(prec=80, traps=[InvalidOperation, DivisionByZero, Overflow])
P = ParamSpec("P")
R = TypeVar("R")
# Beyond these an order is a typo or an attack, not a trade.
MAX_UNITS = Decimal(10) ** 15

# Digits, one optional point, more digits: no sign, exponent, NaN, Infinity, underscores
# or non-ASCII digits, which Decimal() would all accept.
_PLAIN_NUMBER = re.compile(r"(?:[0-9]{1,16})(?:\.[0-9]{1,18})?|\.[0-9]{1,18}")


def exact(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` in MONEY_CONTEXT: even `-x` and `a + b` round to the context's
    precision, so every function doing arithmetic on amounts is wrapped."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(MONEY_CONTEXT):
            return function(*args, **kwargs)

    return wrapper


class AmountError(ValueError):
    """Text that is not an acceptable amount; str() says why, quoting it."""


def read_amount(text: str, what: str = "amount") -> Decimal:
    """A positive amount written in plain ASCII decimal notation ("0.5", "1200", "1,5"
    refused). Zero, negatives, exponents and NaN are refused with the reason."""
    shown = text if len(text) <= 40 else text[:39] + "…"
    if text.startswith("-"):
        raise AmountError(f"{what} must be positive, got {shown!r}")
    if not _PLAIN_NUMBER.fullmatch(text):
        raise AmountError(f"{what} must be a plain decimal number like 0.25, got {shown!r}")
    value = Decimal(text)
    if value == 0:
        raise AmountError(f"{what} must be more than zero, got {shown!r}")
    if value > MAX_UNITS:
        raise AmountError(f"{what} is too large: {shown!r}")
    return value


def step(decimals: int) -> Decimal:
    """The smallest unit of a commodity kept to `decimals` places."""
    return Decimal(1).scaleb(-decimals)


def quantize(amount: Decimal, decimals: int) -> Decimal:
    """`amount` rounded half-even to `decimals` places (the only rounding there is)."""
    with localcontext(MONEY_CONTEXT):
        return amount.quantize(step(decimals), rounding=ROUND_HALF_EVEN)


def multiply(a: Decimal, b: Decimal) -> Decimal:
    with localcontext(MONEY_CONTEXT):
        return a * b


def divide(a: Decimal, b: Decimal) -> Decimal:
    with localcontext(MONEY_CONTEXT):
        return a / b


def bps(amount: Decimal, basis_points: int) -> Decimal:
    """`basis_points` hundredths of a percent of `amount`, unrounded."""
    with localcontext(MONEY_CONTEXT):
        return amount * basis_points / 10_000


def total(amounts: list[Decimal] | tuple[Decimal, ...]) -> Decimal:
    """An exact sum, however many terms."""
    with localcontext(MONEY_CONTEXT):
        return sum(amounts, Decimal(0))


def plain(amount: Decimal) -> str:
    """How amounts are shown and stored: no exponent, no trailing zeros past the point."""
    text = format(amount.normalize(MONEY_CONTEXT), "f")
    return "0" if text in ("-0", "0") else text
