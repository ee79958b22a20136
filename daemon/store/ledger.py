"""The paper account's books: journal transactions and postings, balances kept as they
are posted, fills by idempotency key, open lots. Every write runs in the caller's
transaction; amounts are exact decimals (see store/fields.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from daemon.money import exact, total
from daemon.store.database import execute, read_timestamp, timestamp
from daemon.store.fields import decimal_text, to_decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class LotRow:
    id: int
    base: str
    qty: Decimal
    cost: Decimal


@dataclass(frozen=True)
class NewFill:
    """A fill (buy, sell) or a deposit as the broker records it."""

    key: str
    symbol: str
    side: str  # buy, sell, deposit
    qty: Decimal
    price: Decimal
    gross: Decimal
    fee: Decimal
    realized: Decimal
    cash_change: Decimal
    cash_after: Decimal


@dataclass(frozen=True)
class FillRecord(NewFill):
    """A recorded fill, with where and when it was booked."""

    id: int = 0
    transaction_id: int = 0
    filled_at: datetime = datetime.min
    # True when the key had filled before and this is that earlier fill, unchanged.
    replayed: bool = False


_FILL_COLUMNS = (
    "id, key, symbol, side, qty, price, gross, fee, realized, cash_change, cash_after,"
    " transaction_id, filled_at"
)


def _fill(row: Sequence[Any]) -> FillRecord:
    qty, price, gross, fee, realized, change, after = (to_decimal(v) for v in row[4:11])
    return FillRecord(str(row[1]), str(row[2]), str(row[3]), qty, price, gross, fee, realized,
                      change, after, id=int(row[0]), transaction_id=int(row[11]),
                      filled_at=read_timestamp(row[12]))  # fmt: skip


def balance(account: str, commodity: str) -> Decimal:
    row = execute(
        "SELECT amount FROM ledger_balance WHERE account = ? AND commodity = ?", account, commodity
    ).fetchone()
    return ZERO if row is None else to_decimal(row[0])


def balances() -> dict[tuple[str, str], Decimal]:
    rows = execute("SELECT account, commodity, amount FROM ledger_balance").fetchall()
    return {(account, commodity): to_decimal(amount) for account, commodity, amount in rows}


@exact
def post(memo: str, postings: Sequence[tuple[str, str, Decimal]], now: datetime) -> int:
    """One journal transaction with its postings, the kept balances moved with it.
    The caller made sure the postings balance."""
    transaction_id = int(
        execute(
            "INSERT INTO ledger_transaction (created_at, memo) VALUES (?, ?) RETURNING id",
            timestamp(now),
            memo,
        ).fetchone()[0]
    )
    for account, commodity, amount in postings:
        execute(
            "INSERT INTO ledger_posting (transaction_id, account, commodity, amount)"
            " VALUES (?, ?, ?, ?)",
            transaction_id,
            account,
            commodity,
            decimal_text(amount),
        )
        execute(
            "INSERT INTO ledger_balance (account, commodity, amount) VALUES (?, ?, ?)"
            " ON CONFLICT (account, commodity) DO UPDATE SET amount = excluded.amount",
            account,
            commodity,
            decimal_text(balance(account, commodity) + amount),
        )
    return transaction_id


def find_fill(key: str) -> FillRecord | None:
    row = execute(f"SELECT {_FILL_COLUMNS} FROM paper_fill WHERE key = ?", key).fetchone()
    return None if row is None else _fill(row)


def record_fill(fill: NewFill, transaction_id: int, now: datetime) -> FillRecord:
    amounts = (fill.qty, fill.price, fill.gross, fill.fee, fill.realized, fill.cash_change,
               fill.cash_after)  # fmt: skip
    row = execute(
        "INSERT INTO paper_fill (key, symbol, side, qty, price, gross, fee, realized,"
        " cash_change, cash_after, transaction_id, filled_at)"
        f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_FILL_COLUMNS}",
        fill.key,
        fill.symbol,
        fill.side,
        *(decimal_text(amount) for amount in amounts),
        transaction_id,
        timestamp(now),
    ).fetchone()
    return _fill(row)


def fills_since(since: datetime) -> list[FillRecord]:
    rows = execute(
        f"SELECT {_FILL_COLUMNS} FROM paper_fill WHERE filled_at >= ? ORDER BY id",
        timestamp(since),
    ).fetchall()
    return [_fill(row) for row in rows]


def cash_moved() -> Decimal:
    """What fills and deposits recorded as cash in and out, summed exactly."""
    rows = execute("SELECT cash_change FROM paper_fill").fetchall()
    return total([to_decimal(row[0]) for row in rows])


def open_lots(base: str | None = None) -> list[LotRow]:
    """Open lots, oldest first; of one base asset, or all."""
    sql = "SELECT id, base, qty, cost FROM paper_lot"
    rows = execute(sql + (" WHERE base = ? ORDER BY id" if base else " ORDER BY id"),
                   *((base,) if base else ())).fetchall()  # fmt: skip
    return [LotRow(int(i), str(b), to_decimal(q), to_decimal(c)) for i, b, q, c in rows]


def sync_lots(
    base: str,
    before: Sequence[LotRow],
    after: Sequence[tuple[int, Decimal, Decimal]],
    fill_id: int,
    now: datetime,
) -> None:
    """Write the lots of `base` as a fill left them: (id, qty, cost) for each open lot,
    id 0 for the one it opened; lots missing from `after` were closed."""
    kept = {lot_id: (qty, cost) for lot_id, qty, cost in after if lot_id}
    for lot in before:
        if lot.id not in kept:
            execute("DELETE FROM paper_lot WHERE id = ?", lot.id)
        elif kept[lot.id] != (lot.qty, lot.cost):
            qty, cost = kept[lot.id]
            execute("UPDATE paper_lot SET qty = ?, cost = ? WHERE id = ?",
                    decimal_text(qty), decimal_text(cost), lot.id)  # fmt: skip
    for lot_id, qty, cost in after:
        if not lot_id:
            execute(
                "INSERT INTO paper_lot (base, fill_id, opened_at, qty, cost)"
                " VALUES (?, ?, ?, ?, ?)",
                base, fill_id, timestamp(now), decimal_text(qty), decimal_text(cost),
            )  # fmt: skip


def journal_batches(span: int = 2_500) -> Iterator[list[tuple[int, str, str, Decimal]]]:
    """Every posting as (transaction id, account, commodity, amount), by transaction,
    `span` transaction ids per batch (an index range each), so a million postings never
    sit in memory at once. Read in one transaction to see one moment."""
    top = execute("SELECT MAX(transaction_id) FROM ledger_posting").fetchone()[0] or 0
    for start in range(0, int(top), span):
        rows = execute(
            "SELECT transaction_id, account, commodity, amount FROM ledger_posting"
            " WHERE transaction_id > ? AND transaction_id <= ? ORDER BY transaction_id, id",
            start,
            start + span,
        ).fetchall()
        # Decimal() reads SQLite's text and copies psycopg2's Decimal alike.
        yield [(t, account, commodity, Decimal(amount)) for t, account, commodity, amount in rows]


def lot_amounts() -> list[tuple[str, Decimal, Decimal]]:
    """(base, qty, cost) of every open lot."""
    rows = execute("SELECT base, qty, cost FROM paper_lot").fetchall()
    return [(base, Decimal(qty), Decimal(cost)) for base, qty, cost in rows]


@dataclass(frozen=True)
class TransactionRow:
    id: int
    created_at: datetime
    memo: str
    postings: tuple[tuple[str, str, Decimal], ...]


def last_transactions(count: int) -> list[TransactionRow]:
    """The newest `count` journal transactions with their postings, oldest first."""
    heads = execute(
        "SELECT id, created_at, memo FROM ledger_transaction ORDER BY id DESC LIMIT ?", count
    ).fetchall()
    if not heads:
        return []
    low = min(int(row[0]) for row in heads)
    postings: dict[int, list[tuple[str, str, Decimal]]] = {}
    for transaction_id, account, commodity, amount in execute(
        "SELECT transaction_id, account, commodity, amount FROM ledger_posting"
        " WHERE transaction_id >= ? ORDER BY transaction_id, id",
        low,
    ).fetchall():
        postings.setdefault(int(transaction_id), []).append((account, commodity, Decimal(amount)))
    return [
        TransactionRow(int(i), read_timestamp(at), memo, tuple(postings.get(int(i), [])))
        for i, at, memo in reversed(heads)
    ]


def record_snapshot(at: datetime, equity: Decimal, cash: Decimal) -> None:
    execute(
        "INSERT INTO equity_snapshot (taken_at, equity, cash) VALUES (?, ?, ?)",
        timestamp(at),
        decimal_text(equity),
        decimal_text(cash),
    )


def equity_at(moment: datetime) -> Decimal | None:
    """The equity of the last snapshot taken at or before `moment`."""
    row = execute(
        "SELECT equity FROM equity_snapshot WHERE taken_at <= ? ORDER BY taken_at DESC, id DESC"
        " LIMIT 1",
        timestamp(moment),
    ).fetchone()
    return None if row is None else Decimal(row[0])


def equity_history(since: datetime) -> list[tuple[datetime, Decimal]]:
    rows = execute(
        "SELECT taken_at, equity FROM equity_snapshot WHERE taken_at >= ? ORDER BY taken_at, id",
        timestamp(since),
    ).fetchall()
    return [(read_timestamp(at), Decimal(value)) for at, value in rows]


def deposits_since(since: datetime) -> Decimal:
    rows = execute(
        "SELECT cash_change FROM paper_fill WHERE side = 'deposit' AND filled_at >= ?",
        timestamp(since),
    ).fetchall()
    return total([Decimal(row[0]) for row in rows])


def transaction_heads() -> dict[int, tuple[datetime, str]]:
    """Every journal transaction's time and memo, by id."""
    rows = execute("SELECT id, created_at, memo FROM ledger_transaction").fetchall()
    return {int(i): (read_timestamp(at), str(memo)) for i, at, memo in rows}
