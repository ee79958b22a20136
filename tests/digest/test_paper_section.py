"""The digest's "Paper trading" section from a real database: equity at the last stored
quotes, the last 24 hours' fills, realized P&L and fees, unrealized P&L, best and worst
position, stale marks named; absent when no symbol is configured."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import daemon.features  # noqa: F401  # registers [prices] and [paper]
from daemon.digest.sections import PaperTrading
from daemon.store import quotes, schema
from daemon.store.database import open_database, transaction
from daemon.trading.assembly import markets
from daemon.trading.broker import PaperBroker
from daemon.trading.execution import Order, Side
from daemon.trading.summary import paper_summary
from tests.digest.test_period_sections import FACTS
from tests.support.config import settings_from

NOW = datetime(2026, 11, 30, 8, 0, 0)
CONFIG = """
[prices]
max_age = 60
[[prices.symbols]]
symbol = "BTC/USDT"
source = "binance"
id = "BTCUSDT"
[[prices.symbols]]
symbol = "ETH/USDT"
source = "binance"
id = "ETHUSDT"
"""


class Prices:
    def __init__(self) -> None:
        self.prices = {"BTC/USDT": D("50000"), "ETH/USDT": D("3000")}

    def fresh_price(self, symbol: str) -> D:
        return self.prices[symbol]


def test_the_section_reports_the_account(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, CONFIG)
    db = open_database(settings.database_url)
    schema.upgrade(db)
    paper = settings.section("paper")
    tradable = markets(settings.section("prices"), paper)
    prices = Prices()
    yesterday = NOW - timedelta(hours=30)
    with transaction():
        old = PaperBroker(tradable, "USDT", D("10000"), paper.terms(), prices, lambda: yesterday)
        old.fill(Order("a", "BTC/USDT", Side.BUY, qty=D("0.1")))
        broker = PaperBroker(tradable, "USDT", D("10000"), paper.terms(), prices, lambda: NOW)
        broker.fill(Order("b", "ETH/USDT", Side.BUY, qty=D("1")))
        broker.fill(Order("c", "BTC/USDT", Side.SELL, qty=D("0.05")))
        quotes.save([
            quotes.StoredQuote("BTC/USDT", D("52000"), "binance", NOW, NOW),
            quotes.StoredQuote("ETH/USDT", D("2900"), "binance", NOW - timedelta(hours=2), NOW),
        ])  # fmt: skip
    summary = paper_summary(settings, NOW)
    assert summary is not None
    block = PaperTrading().render(replace(FACTS, paper=summary))
    assert block is not None
    assert block.lines == (
        # cash: 10000 − 5007.5025 (0.1 BTC at 50,025) − 3004.5015 (1 ETH at 3,001.5)
        # + 2496.25125 (0.05 BTC at 49,975 less its fee); holdings at 52,000 and 2,900
        "equity 9984.24725 USDT, cash 4484.24725 USDT",
        "24 h: 2 fills, realized -2.5 USDT, fees 5.50025 USDT",
        "unrealized now -2.75 USDT",
        "best BTC/USDT 98.75 USDT",
        "worst ETH/USDT -101.5 USDT",
        "marked at stale prices: ETH/USDT",
    )
    db.close()


def test_without_symbols_there_is_no_section() -> None:
    assert PaperTrading().render(FACTS) is None
