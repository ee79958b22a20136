"""Column types of our own. Frozen migrations use them too, so they never change shape."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import peewee

# An exact decimal: TEXT on SQLite (its NUMERIC affinity would store a REAL and round),
# NUMERIC (unbounded) on PostgreSQL. Never summed or compared in SQL: SQLite would turn
# the text into a float first; sums are made in Python, exactly.
EXACT_DECIMAL = "EXACT_DECIMAL"
SQLITE_FIELD_TYPES = {EXACT_DECIMAL: "TEXT"}
POSTGRES_FIELD_TYPES = {EXACT_DECIMAL: "NUMERIC"}


def decimal_text(value: Decimal) -> str:
    """How an amount is written: plain notation, never an exponent."""
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value}")
    return format(value, "f")


def to_decimal(value: Any) -> Decimal:
    """An amount as read back: SQLite hands over the text, psycopg2 a Decimal."""
    return value if isinstance(value, Decimal) else Decimal(value)


class ExactDecimalField(peewee.Field):
    field_type = EXACT_DECIMAL

    def db_value(self, value: Decimal | None) -> str | None:
        return None if value is None else decimal_text(value)

    def python_value(self, value: Any) -> Decimal | None:
        return None if value is None else to_decimal(value)
