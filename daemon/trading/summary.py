"""The paper account as the digest reports it, read from the database: equity at the
last stored quotes, the last 24 hours' realized P&L, fees and fills, the best and worst
open position. The digest runs in its own process, without the live quote book."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from daemon.config import Settings
from daemon.prices.quotes import QuoteBook
from daemon.prices.settings import PricesSettings
from daemon.store import ledger
from daemon.trading import journal
from daemon.trading.assembly import last_known_quotes, markets
from daemon.trading.broker import DEPOSIT_KEY
from daemon.trading.desk import fills_since
from daemon.trading.positions import Position, equity, holdings, positions, unrealized_total
from daemon.trading.settings import PaperSettings

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class PaperSummary:
    quote: str
    cash: Decimal
    equity: Decimal | None
    realized: Decimal  # of lots closed in the window, before fees
    fees: Decimal
    fills: int
    positions: tuple[Position, ...]

    @property
    def unrealized(self) -> Decimal | None:
        return unrealized_total(self.positions)

    def ranked(self) -> list[Position]:
        """Open positions with a price, best unrealized P&L first."""
        priced = [p for p in self.positions if p.unrealized is not None]
        return sorted(priced, key=lambda p: p.unrealized or Decimal(0), reverse=True)


def paper_summary(settings: Settings, now: datetime) -> PaperSummary | None:
    """None when no symbol is configured (there is no paper account to speak of)."""
    prices: PricesSettings = settings.section("prices")
    paper: PaperSettings = settings.section("paper")
    if not prices.symbols:
        return None
    # The stored quotes, judged fresh or stale by the live book's rule as of now.
    book = QuoteBook(prices.max_ages(), lambda: now)
    for quote in last_known_quotes():
        book.update(quote)
    tradable = markets(prices, paper).values()
    held = positions(tradable, holdings(ledger.balances(), tradable, paper.quote), book.marks())
    fills = fills_since(now - WINDOW)
    # Before the first order the start balance is not posted yet, but it is the account.
    funded = ledger.find_fill(DEPOSIT_KEY) is not None
    cash = ledger.balance(journal.cash(paper.quote), paper.quote) if funded else paper.start_balance
    return PaperSummary(
        paper.quote,
        cash,
        equity(cash, held),
        fills.realized,
        fills.fees,
        fills.count,
        held,
    )
