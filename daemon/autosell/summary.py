"""AutoSell as the digest reports it, read from the database (the digest runs in its own
process): the period's executions with their realized P&L, the rules armed, the kill
switch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from daemon.config import Settings
from daemon.money import total
from daemon.prices.settings import PricesSettings
from daemon.store import autosell as stored
from daemon.store import events
from daemon.trading.settings import PaperSettings


@dataclass(frozen=True)
class ExecutionLine:
    at: datetime
    symbol: str
    rule: str
    qty: Decimal
    price: Decimal
    realized: Decimal  # before fees


@dataclass(frozen=True)
class AutoSellSummary:
    quote: str
    executions: tuple[ExecutionLine, ...]
    rules_active: int
    paused: stored.Paused | None

    @property
    def realized(self) -> Decimal:
        return total([line.realized for line in self.executions])


def autosell_summary(settings: Settings, since: datetime) -> AutoSellSummary | None:
    """None without paper trading (AutoSell runs on the paper account)."""
    prices: PricesSettings = settings.section("prices")
    paper: PaperSettings = settings.section("paper")
    if not prices.symbols:
        return None
    lines = []
    for event in events.of_kind_since("autosell", since):
        data = json.loads(event.detail)
        lines.append(ExecutionLine(event.at, data["symbol"], data["rule"], Decimal(data["qty"]),
                                   Decimal(data["price"]), Decimal(data["realized"])))  # fmt: skip
    return AutoSellSummary(paper.quote, tuple(lines), len(stored.open_rules()), stored.paused())
