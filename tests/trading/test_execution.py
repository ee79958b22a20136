"""Order execution as values: fills, fees, slippage, FIFO lots, rounding and refusals,
computed by hand beside each case."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from daemon.money import AmountError, read_amount
from daemon.trading import journal
from daemon.trading.execution import (
    Book,
    Market,
    Order,
    OrderRefused,
    Side,
    Terms,
    contribution,
    execute,
    unrealized,
)
from daemon.trading.lots import Lot, close_fifo

BTC = Market("BTC/USDT", "BTC", "USDT")
TERMS = Terms(fee_bps=10, slippage_bps=5)


def buy(qty: str | None = None, spend: str | None = None) -> Order:
    return Order("k", "BTC/USDT", Side.BUY, qty=D(qty) if qty else None,
                 spend=D(spend) if spend else None)  # fmt: skip


def sell(qty: str | None = None, percent: str | None = None) -> Order:
    return Order("k", "BTC/USDT", Side.SELL, qty=D(qty) if qty else None,
                 percent=D(percent) if percent else None)  # fmt: skip


def test_a_buy_pays_slippage_and_fee_and_opens_a_lot_at_cost() -> None:
    """0.1 BTC at 50,000: price 50,025 (+5 bps), cost 5,002.50, fee 5.0025 → 5.0025;
    the journal entry balances per commodity."""
    fill = execute(buy("0.1"), BTC, D("50000"), Book(D("10000"), ()), TERMS)
    assert fill.price == D("50025.0000")
    assert fill.gross == D("5002.50000000")
    assert fill.fee == D("5.00250000")
    assert fill.cash_after == D("4992.4975")
    assert fill.lots_after == (Lot(0, D("0.1"), D("5002.5")),)
    assert journal.imbalances(fill.entry.postings) == {}
    assert sorted(map(str, fill.entry.postings)) == [
        "asset:BTC 0.1 BTC",
        "cash:USDT -5007.5025 USDT",
        "expense:fees 5.0025 USDT",
        "trading:BTC -0.1 BTC",
        "trading:BTC 5002.5 USDT",
    ]


def test_a_buy_by_amount_spends_at_most_the_amount_fee_included() -> None:
    """$1000 at 50,025 with a 10 bps fee: floor(1000 / 50075.025, 8) = 0.01997003 BTC;
    what is left of the $1000 would not buy one more unit."""
    fill = execute(buy(spend="1000"), BTC, D("50000"), Book(D("10000"), ()), TERMS)
    assert fill.qty == D("0.01997003")
    assert fill.gross + fill.fee == D("999.99975150")
    assert D("1000") - (fill.gross + fill.fee) < D("50075.025") * D("0.00000001")


def test_a_sell_closes_the_oldest_lots_first_and_books_realized_per_lot() -> None:
    """Lots 1 BTC @ 100 and 1 BTC @ 200 (costs 100, 200), sell 1.5 at 300 (no fees):
    closes lot 1 whole (+200) and half of lot 2 (cost 100, +50): realized 250."""
    book = Book(D("0"), (Lot(1, D("1"), D("100")), Lot(2, D("1"), D("200"))))
    fill = execute(sell("1.5"), BTC, D("300"), book, Terms(0, 0))
    assert [(c.lot_id, c.qty, c.cost, c.proceeds) for c in fill.closed] == [
        (1, D("1"), D("100"), D("300")),
        (2, D("0.5"), D("100.00000000"), D("150.00000000")),
    ]
    assert fill.realized == D("250")
    assert fill.lots_after == (Lot(2, D("0.5"), D("100.00000000")),)
    assert journal.imbalances(fill.entry.postings) == {}
    realized = [p for p in fill.entry.postings if p.account == journal.REALIZED]
    assert [p.amount for p in realized] == [D("-250")]


def test_partial_closes_share_cost_so_the_parts_add_up_exactly() -> None:
    """A lot of 3 units costing 10 closed one unit at a time: 3.33333333, then half of
    6.66666667 (3.333333335, half-even 3.33333334), then the rest, 3.33333333 — the
    parts add up to 10 exactly."""
    lots: tuple[Lot, ...] = (Lot(1, D("3"), D("10")),)
    costs = []
    for _ in range(3):
        closed, lots = close_fifo(lots, D("1"), D("0"), 8)
        costs.append(closed[0].cost)
    assert costs == [D("3.33333333"), D("3.33333334"), D("3.33333333")]
    assert sum(costs) == D("10")
    assert lots == ()


def test_selling_a_percentage_and_all() -> None:
    book = Book(D("0"), (Lot(1, D("0.3"), D("30")),))
    assert execute(sell(percent="50"), BTC, D("100"), book, TERMS).qty == D("0.15")
    assert execute(sell(percent="100"), BTC, D("100"), book, TERMS).lots_after == ()


@pytest.mark.parametrize(
    ("order", "book", "reason"),
    [
        (buy("1"), Book(D("100"), ()),
         "not enough USDT: buying 1 BTC needs 50075.025 with the fee, cash is 100"),
        (sell("1"), Book(D("0"), ()), "no BTC held"),
        (sell("0.2"), Book(D("0"), (Lot(1, D("0.1"), D("1")),)),
         "cannot sell 0.2 BTC: 0.1 held"),
        (sell(percent="150"), Book(D("0"), (Lot(1, D("0.1"), D("1")),)),
         "a share to sell is more than 0% and at most 100%, got 150%"),
        (sell(percent="-5"), Book(D("0"), (Lot(1, D("0.1"), D("1")),)),
         "a share to sell is more than 0% and at most 100%, got -5%"),
        (buy(spend="-1"), Book(D("100"), ()), "amount must be more than zero, got -1"),
        (buy("0.000000001"), Book(D("100"), ()),
         "BTC is traded in steps of 0.00000001, got 0.000000001"),
        (buy(spend="0.0001"), Book(D("100"), ()),
         "0.0001 USDT buys less than the smallest unit of BTC at 50025"),
    ],
)  # fmt: skip
def test_refusals_say_why(order: Order, book: Book, reason: str) -> None:
    with pytest.raises(OrderRefused) as refused:
        execute(order, BTC, D("50000"), book, TERMS)
    assert str(refused.value) == reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0", "quantity must be more than zero, got '0'"),
        ("-1", "quantity must be positive, got '-1'"),
        ("NaN", "quantity must be a plain decimal number like 0.25, got 'NaN'"),
        ("Infinity", "quantity must be a plain decimal number like 0.25, got 'Infinity'"),
        ("1e3", "quantity must be a plain decimal number like 0.25, got '1e3'"),
        ("1,5", "quantity must be a plain decimal number like 0.25, got '1,5'"),
        ("١٢", "quantity must be a plain decimal number like 0.25, got '١٢'"),
        ("9" * 17, f"quantity must be a plain decimal number like 0.25, got '{'9' * 17}'"),
        ("9999999999999999", "quantity is too large: '9999999999999999'"),
    ],
)
def test_quantities_from_text_are_read_strictly(text: str, reason: str) -> None:
    with pytest.raises(AmountError) as refused:
        read_amount(text, "quantity")
    assert str(refused.value) == reason


def test_eighteen_decimal_tokens_multiply_without_silent_rounding() -> None:
    """A 33-digit quantity times a 19-digit price keeps every digit up to the one rounding
    to the quote's 18 places; Python's default context (28 digits) would have ended the
    product at ….1235802458014."""
    token = Market("PEPE/USDT", "PEPE", "USDT", base_decimals=18, quote_decimals=18)
    qty = D("123456789012345.123456789012345678")
    fill = execute(Order("k", token.symbol, Side.BUY, qty=qty), token,
                   D("1.000000000000000001"), Book(D("1e15"), ()), Terms(0, 0))  # fmt: skip
    assert fill.gross == D("123456789012345.123580245801358023")


def test_contribution_and_unrealized() -> None:
    assert journal.imbalances(contribution("USDT", D("10000")).postings) == {}
    assert unrealized((Lot(1, D("2"), D("150")),), D("100")) == D("50")
