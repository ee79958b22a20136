"""Personal price alerts (/alert): set, listed, deleted, fired once. Every write runs in
the caller's transaction; prices are exact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from daemon.store.database import execute, timestamp
from daemon.store.fields import decimal_text, to_decimal


@dataclass(frozen=True)
class PriceAlertRow:
    id: int
    user_id: int
    chat_id: int
    symbol: str
    above: bool
    price: Decimal


_COLUMNS = "id, user_id, chat_id, symbol, above, price"


def _row(row: tuple[object, ...]) -> PriceAlertRow:
    i, user, chat, symbol, above, price = row
    return PriceAlertRow(int(str(i)), int(str(user)), int(str(chat)), str(symbol), bool(above),
                         to_decimal(price))  # fmt: skip


def add(user_id: int, chat_id: int, symbol: str, above: bool, price: Decimal,
        now: datetime) -> int:  # fmt: skip
    row = execute(
        "INSERT INTO price_alert (user_id, chat_id, symbol, above, price, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        user_id, chat_id, symbol, above, decimal_text(price), timestamp(now),
    ).fetchone()  # fmt: skip
    return int(row[0])


def active(symbol: str | None = None, user_id: int | None = None) -> list[PriceAlertRow]:
    sql = f"SELECT {_COLUMNS} FROM price_alert WHERE fired_at IS NULL"
    params: list[object] = []
    if symbol is not None:
        sql += " AND symbol = ?"
        params.append(symbol)
    if user_id is not None:
        sql += " AND user_id = ?"
        params.append(user_id)
    return [_row(r) for r in execute(sql + " ORDER BY id", *params).fetchall()]


def delete(alert_id: int, user_id: int) -> bool:
    """Delete one of the user's active alerts; False when they have none by that id."""
    row = execute("DELETE FROM price_alert WHERE id = ? AND user_id = ? AND fired_at IS NULL"
                  " RETURNING id", alert_id, user_id).fetchone()  # fmt: skip
    return row is not None


def fire(alert_id: int, price: Decimal, now: datetime) -> bool:
    """Mark it fired; False when it had fired (or gone) already: it fires once."""
    row = execute(
        "UPDATE price_alert SET fired_at = ?, fired_price = ? WHERE id = ? AND fired_at IS NULL"
        " RETURNING id",
        timestamp(now), decimal_text(price), alert_id,
    ).fetchone()  # fmt: skip
    return row is not None


def fired_since(since: datetime) -> int:
    row = execute("SELECT COUNT(*) FROM price_alert WHERE fired_at >= ?", timestamp(since))
    return int(row.fetchone()[0])


def prune(before: datetime) -> int:
    """Forget alerts that fired before `before`."""
    return int(execute("DELETE FROM price_alert WHERE fired_at < ?", timestamp(before)).rowcount)
