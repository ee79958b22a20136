"""The broker interface, and the paper broker behind it.

`fill(order)` runs inside a transaction the caller holds (a command's update, AutoSell's
tick, a benchmark's loop), so a fill, its journal entry, its lots and whatever the
caller does with it commit together or not at all. An order's key fills once: the same
key again returns the first fill, marked replayed, and moves nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from daemon.store import events, ledger
from daemon.store.ledger import FillRecord, NewFill
from daemon.trading import journal
from daemon.trading.execution import (
    Book,
    Fill,
    Market,
    Order,
    OrderRefused,
    Side,
    Terms,
    contribution,
    execute,
)
from daemon.trading.lots import Lot

DEPOSIT_KEY = "deposit:start"


class Prices(Protocol):
    def fresh_price(self, symbol: str) -> Decimal:
        """The symbol's current price; LookupError saying why there is none (unknown,
        stale, not yet seen)."""
        ...


class Broker(Protocol):
    def fill(self, order: Order) -> FillRecord: ...


class PaperBroker:
    def __init__(
        self,
        markets: Mapping[str, Market],
        quote: str,
        start_balance: Decimal,
        terms: Terms,
        prices: Prices,
        clock: Callable[[], datetime],
    ):
        self._markets = {symbol.upper(): market for symbol, market in markets.items()}
        self._quote = quote
        self._start_balance = start_balance
        self._terms = terms
        self._prices = prices
        self._clock = clock

    @property
    def quote(self) -> str:
        return self._quote

    @property
    def markets(self) -> Mapping[str, Market]:
        """The tradable markets by upper-case symbol."""
        return self._markets

    def market(self, symbol: str) -> Market:
        market = self._markets.get(symbol.upper())
        if market is None:
            tradable = ", ".join(sorted(self._markets)) or "none configured"
            raise OrderRefused(f"{symbol} is not tradable here (tradable: {tradable})")
        return market

    def ensure_funded(self) -> None:
        """Post the start balance once, as a contribution, the first time it is needed."""
        if ledger.find_fill(DEPOSIT_KEY) is not None:
            return
        now = self._clock()
        entry = contribution(self._quote, self._start_balance)
        transaction_id = ledger.post(entry.memo, _rows(entry.postings), now)
        amount = self._start_balance
        deposit = NewFill(DEPOSIT_KEY, self._quote, "deposit", amount, Decimal(1), amount,
                          Decimal(0), Decimal(0), amount, amount)  # fmt: skip
        ledger.record_fill(deposit, transaction_id, now)
        # The account holds only this cash now: its first equity snapshot.
        ledger.record_snapshot(now, amount, amount)

    def fill(self, order: Order) -> FillRecord:
        earlier = ledger.find_fill(order.key)
        if earlier is not None:
            return replace(earlier, replayed=True)
        market = self.market(order.symbol)
        try:
            price = self._prices.fresh_price(market.symbol)
        except LookupError as exc:
            raise OrderRefused(str(exc)) from None
        self.ensure_funded()
        # A buy only adds a lot: it need not read the open ones (there may be thousands).
        lots = ledger.open_lots(market.base) if order.side is Side.SELL else []
        cash = ledger.balance(journal.cash(self._quote), self._quote)
        book = Book(cash, tuple(Lot(lot.id, lot.qty, lot.cost) for lot in lots))
        done = execute(order, market, price, book, self._terms)
        now = self._clock()
        transaction_id = ledger.post(done.entry.memo, _rows(done.entry.postings), now)
        record = ledger.record_fill(_new_fill(done), transaction_id, now)
        after = [(lot.id, lot.qty, lot.cost) for lot in done.lots_after]
        ledger.sync_lots(market.base, lots, after, record.id, now)
        # Alert routing (next issue) picks fills up from the event log.
        events.record("fill", now, json.dumps(done.event(), sort_keys=True))
        return record


def _rows(postings: tuple[journal.Posting, ...]) -> list[tuple[str, str, Decimal]]:
    return [(p.account, p.commodity, p.amount) for p in postings]


def _new_fill(fill: Fill) -> NewFill:
    amounts = (fill.qty, fill.price, fill.gross, fill.fee, fill.realized, fill.cash_change)
    return NewFill(fill.key, fill.market.symbol, fill.side.value, *amounts, fill.cash_after)
