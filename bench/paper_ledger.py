"""The paper books on SQLite (WAL, synchronous=NORMAL, as the daemon opens them).

- durable fills/s: buys and sells through the broker interface, each committed in its
  own transaction (fill, journal entry, kept balances, lots), against a baseline in the
  same run: one bare INSERT committed per transaction on the same kind of file. Goal:
  ≥ 2,000 fills/s.
- `ledger check` over a journal of 1,000,000 postings (written directly, balanced
  transactions of four postings, with their lots and balances), against a baseline
  that only reads the same rows. Goal: ≤ 2 s.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from daemon.store import ledger, schema
from daemon.store.database import execute, open_database, transaction
from daemon.trading.books import audit_store
from daemon.trading.broker import PaperBroker
from daemon.trading.execution import Market, Order, Side, Terms

FILLS = 4000
POSTINGS = 1_000_000
NOW = datetime(2026, 11, 29, 12, 0, 0)


class SteadyPrice:
    def fresh_price(self, symbol: str) -> Decimal:
        if symbol != "BTC/USDT":
            raise LookupError(symbol)
        return Decimal("50000")


def fills_per_second(workdir: Path) -> dict[str, Any]:
    db = open_database(f"sqlite:///{workdir / 'fills.sqlite'}")
    schema.upgrade(db)
    market = Market("BTC/USDT", "BTC", "USDT")
    broker = PaperBroker({"BTC/USDT": market}, "USDT", Decimal("100000000"), Terms(10, 5),
                         SteadyPrice(), lambda: NOW)  # fmt: skip
    with transaction():
        broker.ensure_funded()
    began = time.perf_counter()
    for n in range(FILLS):
        side = Side.BUY if n % 4 < 2 else Side.SELL  # lots open and close as they go
        with transaction():
            broker.fill(Order(f"bench-{n}", "BTC/USDT", side, qty=Decimal("0.01")))
    elapsed = time.perf_counter() - began
    db.close()

    base = open_database(f"sqlite:///{workdir / 'baseline.sqlite'}")
    schema.upgrade(base)
    began = time.perf_counter()
    for n in range(FILLS):
        with transaction():
            execute("INSERT INTO key_value (key, value) VALUES (?, ?)", f"k{n}", "v")
    baseline = time.perf_counter() - began
    base.close()
    rate = FILLS / elapsed
    return {
        "fills": FILLS,
        "fills_per_s": round(rate, 1),
        "baseline_bare_commits_per_s": round(FILLS / baseline, 1),
        "goal_fills_per_s": 2000,
        "meets_goal": rate >= 2000,
    }


def write_journal(postings: int) -> None:
    """Balanced four-posting transactions straight into the tables (the broker would
    take minutes): each buys 0.001 BTC for 50 USDT and opens a lot."""
    transactions = postings // 4
    with transaction():
        execute("INSERT INTO ledger_transaction (created_at, memo)"
                " SELECT '2026-11-29 12:00:00', 'bench' FROM (WITH RECURSIVE n(i) AS"
                " (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT i FROM n)",
                transactions)  # fmt: skip
        for account, commodity, amount in (
            ("asset:BTC", "BTC", "0.001"),
            ("trading:BTC", "BTC", "-0.001"),
            ("trading:BTC", "USDT", "50"),
            ("cash:USDT", "USDT", "-50"),
        ):
            execute(
                "INSERT INTO ledger_posting (transaction_id, account, commodity, amount)"
                " SELECT id, ?, ?, ? FROM ledger_transaction",
                account, commodity, amount,
            )  # fmt: skip
        execute("INSERT INTO paper_lot (base, fill_id, opened_at, qty, cost)"
                " SELECT 'BTC', id, created_at, '0.001', '50' FROM ledger_transaction")  # fmt: skip
        deposit = Decimal(50 * transactions)
        ledger.post("deposit", [("cash:USDT", "USDT", deposit),
                                ("equity:contributions", "USDT", -deposit)], NOW)  # fmt: skip
        for account, commodity, amount in (
            ("asset:BTC", "BTC", Decimal("0.001") * transactions),
            ("trading:BTC", "BTC", Decimal("-0.001") * transactions),
            ("trading:BTC", "USDT", Decimal(50 * transactions)),
            ("cash:USDT", "USDT", Decimal(0)),  # the deposit, all spent
        ):
            execute("INSERT INTO ledger_balance (account, commodity, amount) VALUES (?, ?, ?)"
                    " ON CONFLICT (account, commodity) DO UPDATE SET amount = excluded.amount",
                    account, commodity, format(amount, "f"))  # fmt: skip
        execute("INSERT INTO paper_fill (key, symbol, side, qty, price, gross, fee, realized,"
                " cash_change, cash_after, transaction_id, filled_at) VALUES ('deposit', 'USDT',"
                " 'deposit', ?, '1', ?, '0', '0', ?, '0', 0, '2026-11-29 12:00:00')",
                *[format(deposit, "f")] * 3)  # fmt: skip
        # the buys' cash, as their fills would have recorded it
        execute("INSERT INTO paper_fill (key, symbol, side, qty, price, gross, fee, realized,"
                " cash_change, cash_after, transaction_id, filled_at) VALUES ('buys', 'BTC/USDT',"
                " 'buy', '0', '0', '0', '0', '0', ?, '0', 0, '2026-11-29 12:00:00')",
                format(-deposit, "f"))  # fmt: skip


def ledger_check_seconds(workdir: Path) -> dict[str, Any]:
    db = open_database(f"sqlite:///{workdir / 'journal.sqlite'}")
    schema.upgrade(db)
    write_journal(POSTINGS)
    began = time.perf_counter()
    with transaction():
        rows = sum(len(batch) for batch in ledger.journal_batches())
    baseline = time.perf_counter() - began
    began = time.perf_counter()
    with transaction():
        report = audit_store("USDT")
    elapsed = time.perf_counter() - began
    db.close()
    return {
        "postings": report.postings,
        "rows_read_by_baseline": rows,
        "problems": len(report.problems),
        "seconds": round(elapsed, 3),
        "baseline_read_only_seconds": round(baseline, 3),
        "goal_seconds": 2.0,
        "meets_goal": elapsed <= 2.0 and report.clean,
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        return {
            "durable_fills": fills_per_second(workdir),
            "ledger_check": ledger_check_seconds(workdir),
        }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
