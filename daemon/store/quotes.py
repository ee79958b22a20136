"""The last known quote per symbol, so a restart can show it (as stale) at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from daemon.store.database import execute, read_timestamp, timestamp
from daemon.store.fields import decimal_text


@dataclass(frozen=True)
class StoredQuote:
    symbol: str
    price: Decimal
    source: str
    observed_at: datetime
    received_at: datetime


def save(quotes: list[StoredQuote]) -> None:
    for quote in quotes:
        execute(
            "INSERT INTO price_quote (symbol, price, source, observed_at, received_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (symbol) DO UPDATE SET price = excluded.price,"
            " source = excluded.source, observed_at = excluded.observed_at,"
            " received_at = excluded.received_at",
            quote.symbol,
            decimal_text(quote.price),
            quote.source,
            timestamp(quote.observed_at),
            timestamp(quote.received_at),
        )


def load() -> list[StoredQuote]:
    rows = execute(
        "SELECT symbol, price, source, observed_at, received_at FROM price_quote ORDER BY symbol"
    ).fetchall()
    return [
        StoredQuote(
            symbol, Decimal(price), source, read_timestamp(observed), read_timestamp(received)
        )
        for symbol, price, source, observed, received in rows
    ]
