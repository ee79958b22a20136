"""Properties of the pure ledger over generated order sequences (hypothesis): whatever
mix of valid and invalid orders arrives at whatever prices, the journal balances per
commodity, holdings never go negative, a refused order moves nothing, the audit finds
nothing wrong, and realized + unrealized P&L = equity − contributions, exactly."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal as D
from decimal import localcontext

from hypothesis import event, given, settings
from hypothesis import strategies as st

from daemon.money import MONEY_CONTEXT, multiply, total
from daemon.trading import journal
from daemon.trading.audit import audit, lot_totals
from daemon.trading.execution import (
    Book,
    Market,
    Order,
    OrderRefused,
    Side,
    Terms,
    contribution,
    execute,
)
from daemon.trading.journal import Posting
from daemon.trading.lots import Lot, cost_of, held

MARKETS = {
    "BTC/USDT": Market("BTC/USDT", "BTC", "USDT", base_decimals=8, quote_decimals=8),
    "DOGE/USDT": Market("DOGE/USDT", "DOGE", "USDT", base_decimals=0, quote_decimals=2),
    "PEPE/USDT": Market("PEPE/USDT", "PEPE", "USDT", base_decimals=18, quote_decimals=18),
}
START = D("10000")


@dataclass
class Account:
    """The broker's bookkeeping without a database: what a fill changes."""

    cash: D = START
    lots: dict[str, tuple[Lot, ...]] = field(default_factory=dict)
    entries: list[tuple[Posting, ...]] = field(default_factory=list)
    cash_moved: D = START
    next_lot: int = 1

    def __post_init__(self) -> None:
        self.entries.append(contribution("USDT", START).postings)

    def apply(self, order: Order, price: D, terms: Terms) -> None:
        market = MARKETS[order.symbol]
        book = Book(self.cash, self.lots.get(market.base, ()))
        fill = execute(order, market, price, book, terms)
        self.cash = fill.cash_after
        self.cash_moved = total([self.cash_moved, fill.cash_change])
        opened = [lot for lot in fill.lots_after if lot.id == 0]
        numbered = tuple(lot for lot in fill.lots_after if lot.id != 0)
        self.lots[market.base] = numbered + tuple(
            Lot(self.next_lot, lot.qty, lot.cost) for lot in opened
        )
        self.next_lot += len(opened)
        self.entries.append(fill.entry.postings)

    def postings(self) -> list[Posting]:
        return [posting for entry in self.entries for posting in entry]


prices = st.decimals(min_value=D("0.000000000001"), max_value=D("100000"), places=12)
amounts = st.decimals(min_value=D("-1"), max_value=D("100000"), places=10)
percents = st.decimals(min_value=D("-5"), max_value=D("120"), places=2)
orders = st.one_of(
    st.builds(lambda s, q: ("buy", s, q, None, None), st.sampled_from(list(MARKETS)), amounts),
    st.builds(lambda s, a: ("buy", s, None, a, None), st.sampled_from(list(MARKETS)), amounts),
    st.builds(lambda s, q: ("sell", s, q, None, None), st.sampled_from(list(MARKETS)), amounts),
    st.builds(lambda s, p: ("sell", s, None, None, p), st.sampled_from(list(MARKETS)), percents),
)


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(st.tuples(orders, prices), min_size=1, max_size=40),
    fee_bps=st.integers(0, 1000),
    slippage_bps=st.integers(0, 1000),
)
def test_any_order_sequence_keeps_the_books_consistent(
    steps: list[tuple[tuple[str, str, D | None, D | None, D | None], D]],
    fee_bps: int,
    slippage_bps: int,
) -> None:
    account = Account()
    terms = Terms(fee_bps, slippage_bps)
    marks: dict[str, D] = {}
    for n, ((side, symbol, qty, spend, percent), price) in enumerate(steps):
        order = Order(f"o{n}", symbol, Side(side), qty=qty, spend=spend, percent=percent)
        before = (account.cash, dict(account.lots), len(account.entries))
        try:
            account.apply(order, price, terms)
            event(f"a {side} filled")
        except OrderRefused:
            assert (account.cash, dict(account.lots), len(account.entries)) == before
        marks[MARKETS[symbol].base] = price

        postings = account.postings()
        assert journal.imbalances(postings) == {}
        assert all(lot.qty > 0 for lots in account.lots.values() for lot in lots)
        assert account.cash >= 0
        report = audit(
            [[(i, p.account, p.commodity, p.amount) for p in entry]
             for i, entry in enumerate(account.entries)],
            lot_totals((base, lot.qty, lot.cost)
                       for base, lots in account.lots.items() for lot in lots),
            "USDT", account.cash_moved, journal.balances(postings),
        )  # fmt: skip
        assert report.problems == ()

        with localcontext(MONEY_CONTEXT):  # the test's own sums must not round either
            assert_pnl_identity(account, postings, marks)


def assert_pnl_identity(account: Account, postings: list[Posting], marks: dict[str, D]) -> None:
    balances = journal.balances(postings)
    realized = -balances.get((journal.REALIZED, "USDT"), D(0)) - balances.get(
        (journal.FEES, "USDT"), D(0)
    )
    held_value = total(
        [multiply(held(lots), marks.get(base, D(0))) for base, lots in account.lots.items()]
    )
    unrealized = held_value - total([cost_of(lots) for lots in account.lots.values()])
    contributions = -balances[(journal.CONTRIBUTIONS, "USDT")]
    equity = account.cash + held_value
    assert total([realized, unrealized]) == total([equity, -contributions])


def test_the_audit_names_each_kind_of_inconsistency() -> None:
    """A broken journal: an unbalanced transaction, an empty lot, holdings without lots,
    cost without lots, cash that fills do not explain."""
    postings = [
        (1, "cash:USDT", "USDT", D("100")),
        (1, "equity:contributions", "USDT", D("-90")),
        (2, "asset:BTC", "BTC", D("1")),
        (2, "trading:BTC", "BTC", D("-1")),
        (2, "trading:BTC", "USDT", D("50")),
        (2, "cash:USDT", "USDT", D("-50")),
    ]
    lots = lot_totals([("BTC", D("0.5"), D("25")), ("BTC", D("0"), D("1"))])
    report = audit([postings[:2], postings[2:]], lots, "USDT", D("100"))
    assert report.transactions == 2
    assert report.postings == 6
    assert report.problems == (
        "transaction 1 does not balance: 10 USDT",
        "BTC: 1 open lots have no quantity or a negative cost",
        "asset:BTC is 1 BTC but the open lots hold 0.5",
        "trading:BTC holds 50 USDT of cost but the open lots carry 26",
        "cash:USDT is 50 USDT but fills and contributions moved 100",
    )
