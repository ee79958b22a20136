"""AutoSell's tables: each symbol's rule state, the rules set by command, and the kill
switch (in key_value). Every write runs in the caller's transaction; amounts are exact."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from daemon.store import named_values
from daemon.store.database import execute, read_timestamp, timestamp
from daemon.store.fields import decimal_text, to_decimal

PAUSED_KEY = "autosell.paused"


@dataclass(frozen=True)
class RuleRow:
    symbol: str
    arming: int
    spec: str
    entry: Decimal
    armed_qty: Decimal
    held: Decimal
    high: Decimal
    opened_at: datetime
    decimals: int
    steps: int
    trail_stop: Decimal | None
    last_tick_at: datetime | None
    held_back: tuple[str, ...]


@dataclass(frozen=True)
class Paused:
    since: datetime
    reason: str


_COLUMNS = (
    "symbol, arming, spec, entry, armed_qty, held, high, opened_at, decimals, steps,"
    " trail_stop, last_tick_at, held_back"
)


def _row(row: Sequence[Any]) -> RuleRow:
    return RuleRow(
        str(row[0]), int(row[1]), str(row[2]), to_decimal(row[3]), to_decimal(row[4]),
        to_decimal(row[5]), to_decimal(row[6]), read_timestamp(row[7]), int(row[8]),
        int(row[9]), None if row[10] is None else to_decimal(row[10]),
        None if row[11] is None else read_timestamp(row[11]),
        tuple(part for part in str(row[12]).split(",") if part),
    )  # fmt: skip


def rule(symbol: str) -> RuleRow | None:
    found = execute(f"SELECT {_COLUMNS} FROM autosell_rule WHERE symbol = ?", symbol).fetchone()
    return None if found is None else _row(found)


def open_rules() -> list[RuleRow]:
    """The rules on a holding (held > 0: compared in Python, amounts are text on SQLite)."""
    rows = execute(f"SELECT {_COLUMNS} FROM autosell_rule ORDER BY symbol").fetchall()
    return [r for r in map(_row, rows) if r.held > 0]


def save_rule(row: RuleRow, now: datetime) -> None:
    trail = None if row.trail_stop is None else decimal_text(row.trail_stop)
    last = None if row.last_tick_at is None else timestamp(row.last_tick_at)
    values = (
        row.symbol, row.arming, row.spec, decimal_text(row.entry), decimal_text(row.armed_qty),
        decimal_text(row.held), decimal_text(row.high), timestamp(row.opened_at), row.decimals,
        row.steps, trail, last, ",".join(row.held_back), timestamp(now),
    )  # fmt: skip
    execute(
        f"INSERT INTO autosell_rule ({_COLUMNS}, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (symbol) DO UPDATE SET"
        " arming = excluded.arming, spec = excluded.spec, entry = excluded.entry,"
        " armed_qty = excluded.armed_qty, held = excluded.held, high = excluded.high,"
        " opened_at = excluded.opened_at, decimals = excluded.decimals, steps = excluded.steps,"
        " trail_stop = excluded.trail_stop, last_tick_at = excluded.last_tick_at,"
        " held_back = excluded.held_back, updated_at = excluded.updated_at",
        *values,
    )


def last_arming(symbol: str) -> int:
    row = execute("SELECT arming FROM autosell_rule WHERE symbol = ?", symbol).fetchone()
    return 0 if row is None else int(row[0])


def override(symbol: str) -> tuple[bool, str | None]:
    """(whether /autosell set this symbol's rule, the rule text: None for off)."""
    row = execute("SELECT spec FROM autosell_override WHERE symbol = ?", symbol).fetchone()
    return (False, None) if row is None else (True, None if row[0] is None else str(row[0]))


def set_override(symbol: str, spec: str | None, now: datetime) -> None:
    execute(
        "INSERT INTO autosell_override (symbol, spec, set_at) VALUES (?, ?, ?)"
        " ON CONFLICT (symbol) DO UPDATE SET spec = excluded.spec, set_at = excluded.set_at",
        symbol,
        spec,
        timestamp(now),
    )


def paused() -> Paused | None:
    value = named_values.get(PAUSED_KEY)
    if not value:
        return None
    data = json.loads(value)
    return Paused(datetime.fromisoformat(data["since"]), str(data["reason"]))


def set_paused(state: Paused | None) -> None:
    if state is None:
        named_values.put(PAUSED_KEY, "")
    else:
        named_values.put(PAUSED_KEY, json.dumps({"since": state.since.isoformat(),
                                                 "reason": state.reason}))  # fmt: skip
