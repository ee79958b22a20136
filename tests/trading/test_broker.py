"""The paper broker on real databases (each test on SQLite and on PostgreSQL): fills
commit with their journal entry and lots, an idempotency key fills once, a refusal
writes nothing, amounts come back exactly as posted, and `ledger check` finds a clean
journal clean and names what was tampered with."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal as D
from pathlib import Path

import peewee
import pytest

from daemon.store import ledger, schema
from daemon.store.database import execute, open_database
from daemon.trading import journal
from daemon.trading.books import audit_store
from daemon.trading.broker import DEPOSIT_KEY, PaperBroker
from daemon.trading.execution import Market, Order, OrderRefused, Side, Terms

NOW = datetime(2026, 11, 29, 12, 0, 0)
MARKETS = {
    "BTC/USDT": Market("BTC/USDT", "BTC", "USDT"),
    "PEPE/USDT": Market("PEPE/USDT", "PEPE", "USDT", base_decimals=18, quote_decimals=18),
}


class FixedPrices:
    def __init__(self) -> None:
        self.prices: dict[str, D] = {"BTC/USDT": D("50000"), "PEPE/USDT": D("0.000001234")}

    def fresh_price(self, symbol: str) -> D:
        if symbol not in self.prices:
            raise LookupError(f"no fresh price for {symbol}")
        return self.prices[symbol]


@pytest.fixture
def db(database_url: str) -> Iterator[peewee.Database]:
    database = open_database(database_url)
    schema.upgrade(database)
    yield database
    database.close()


@pytest.fixture
def prices() -> FixedPrices:
    return FixedPrices()


@pytest.fixture
def broker(prices: FixedPrices) -> PaperBroker:
    return PaperBroker(MARKETS, "USDT", D("10000"), Terms(10, 5), prices, lambda: NOW)


def order(key: str, side: Side, qty: str, symbol: str = "BTC/USDT") -> Order:
    return Order(key, symbol, side, qty=D(qty))


def test_fills_post_balanced_entries_keep_lots_and_read_back_exactly(
    db: peewee.Database, broker: PaperBroker
) -> None:
    """Deposit, two buys, one sell across both lots: cash, holdings, lots and the kept
    balances agree with the journal; an 18-decimal quantity survives the round trip."""
    with db.atomic():
        broker.fill(order("b1", Side.BUY, "0.1"))
        broker.fill(order("b2", Side.BUY, "0.05"))
        sold = broker.fill(order("s1", Side.SELL, "0.12"))
        pepe = broker.fill(order("p1", Side.BUY, "123456.123456789012345678", "PEPE/USDT"))
    assert sold.side == "sell"
    assert sold.qty == D("0.12")
    assert pepe.qty == D("123456.123456789012345678")
    assert [(lot.base, lot.qty) for lot in ledger.open_lots()] == [
        ("BTC", D("0.03")),
        ("PEPE", D("123456.123456789012345678")),
    ]
    assert ledger.balance(journal.asset("BTC"), "BTC") == D("0.03")
    assert ledger.balance(journal.cash("USDT"), "USDT") == pepe.cash_after
    with db.atomic():
        report = audit_store("USDT")
    assert report.problems == ()
    assert report.transactions == 5  # the deposit and four fills
    # each fill is an event alert routing can pick up
    logged = execute("SELECT detail FROM event WHERE kind = 'fill' ORDER BY id").fetchall()
    assert [json.loads(detail)["side"] for (detail,) in logged] == ["buy", "buy", "sell", "buy"]
    assert json.loads(logged[2][0]) == {
        "kind": "fill", "symbol": "BTC/USDT", "side": "sell", "qty": "0.12",
        "price": "49975", "fee": "5.997", "realized": "-6",
    }  # fmt: skip


def test_a_key_fills_once_and_a_refusal_writes_nothing(
    db: peewee.Database, broker: PaperBroker, prices: FixedPrices
) -> None:
    with db.atomic():
        first = broker.fill(order("same", Side.BUY, "0.1"))
        prices.prices["BTC/USDT"] = D("99999")
        again = broker.fill(order("same", Side.BUY, "0.1"))
    assert again.replayed
    assert (again.id, again.price) == (first.id, first.price)
    counts = "SELECT (SELECT COUNT(*) FROM paper_fill), (SELECT COUNT(*) FROM ledger_posting)"
    before = tuple(execute(counts).fetchone())
    for refused, reason in (
        (order("r1", Side.SELL, "1"), "cannot sell 1 BTC: 0.1 held"),
        (order("r2", Side.BUY, "1000"), "not enough USDT"),
        (order("r3", Side.BUY, "1", "ETH/USDT"), "ETH/USDT is not tradable here"),
    ):
        with pytest.raises(OrderRefused, match=reason), db.atomic():
            broker.fill(refused)
    del prices.prices["BTC/USDT"]
    with pytest.raises(OrderRefused, match="no fresh price for BTC/USDT"), db.atomic():
        broker.fill(order("r4", Side.BUY, "0.01"))
    assert tuple(execute(counts).fetchone()) == before


def test_the_start_balance_is_deposited_once(db: peewee.Database, broker: PaperBroker) -> None:
    with db.atomic():
        broker.ensure_funded()
        broker.ensure_funded()
        broker.fill(order("b", Side.BUY, "0.01"))
    deposit = ledger.find_fill(DEPOSIT_KEY)
    assert deposit is not None
    assert deposit.cash_change == D("10000")
    assert ledger.balance(journal.CONTRIBUTIONS, "USDT") == D("-10000")


def test_ledger_check_exits_0_on_clean_books_and_names_each_tampering(
    tmp_path: Path, broker: PaperBroker
) -> None:
    """`tradebotd ledger check` as an operator runs it, on a SQLite file: clean, then
    after a posting, a lot and a kept balance were edited behind the broker's back."""
    url = f"sqlite:///{tmp_path / 'books.sqlite'}"
    db = open_database(url)
    schema.upgrade(db)
    with db.atomic():
        broker.fill(order("b1", Side.BUY, "0.1"))
        broker.fill(order("s1", Side.SELL, "0.04"))
    env = {"DATABASE_URL": url, "STATE_DIRECTORY": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "daemon", "ledger", "check"], env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    clean = check()
    assert clean.returncode == 0, clean.stderr
    assert "ledger check: 3 transactions, 13 postings: consistent" in clean.stderr
    with db.atomic():
        execute(
            "UPDATE ledger_posting SET amount = '5' WHERE account = 'expense:fees'"
            " AND transaction_id = (SELECT MAX(transaction_id) FROM ledger_posting)"
        )
        execute("UPDATE paper_lot SET qty = '0.07'")
    db.close()
    broken = check()
    assert broken.returncode == 1
    problems = [line for line in broken.stderr.splitlines() if "ledger check:" in line]
    # fees: 5.0025 on the buy (0.1 at 50,025), 1.999 on the sell (0.04 at 49,975)
    assert [line.split("ledger check: ", 1)[1] for line in problems] == [
        "transaction 3 does not balance: 3.001 USDT",
        "asset:BTC is 0.06 BTC but the open lots hold 0.07",
        "the kept balance of expense:fees is 7.0015 USDT but its postings sum to 10.0025",
        "3 transactions, 13 postings: 3 problems",
    ]
