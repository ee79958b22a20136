"""The digest's "AutoSell" section from a real database: the period's executions with
their realized P&L (earlier ones left out), the rules armed, the kill switch; absent
without paper trading."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import daemon.features  # noqa: F401  # registers the sections
from daemon.autosell.summary import autosell_summary
from daemon.digest.sections import AutoSell
from daemon.store import autosell as stored
from daemon.store import events, schema
from daemon.store.database import open_database, transaction
from tests.digest.test_paper_section import CONFIG
from tests.digest.test_period_sections import FACTS
from tests.support.config import settings_from

NOW = datetime(2026, 11, 30, 8, 0, 0)


def execution(symbol: str, rule: str, qty: str, price: str, realized: str) -> str:
    return json.dumps({"kind": "autosell", "symbol": symbol, "rule": rule, "qty": qty,
                       "price": price, "realized": realized})  # fmt: skip


def test_the_section_reports_executions_rules_and_the_kill_switch(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, CONFIG)
    db = open_database(settings.database_url)
    schema.upgrade(db)
    since = FACTS.period.start
    with transaction():
        events.record("autosell", since - timedelta(hours=1),
                      execution("ETH/USDT", "stop-loss", "1", "2800", "-200"))  # fmt: skip
        events.record("autosell", since + timedelta(hours=2),
                      execution("BTC/USDT", "take-profit 1", "0.05", "55000", "250"))  # fmt: skip
        events.record("autosell", since + timedelta(hours=3),
                      execution("BTC/USDT", "trailing stop", "0.05", "53000", "150.5"))  # fmt: skip
        stored.save_rule(stored.RuleRow("ETH/USDT", 3, "sl=-5%", D(3000), D(1), D(1), D(3100),
                                        NOW, 8, 0, None, None, ()), NOW)  # fmt: skip
        stored.set_paused(stored.Paused(NOW - timedelta(minutes=5), "exchange incident"))
    summary = autosell_summary(settings, since)
    block = AutoSell().render(replace(FACTS, autosell=summary))
    assert block is not None
    assert block.lines == (
        "PAUSED since 2026-11-30 07:55 UTC (exchange incident), 1 rules armed",
        "2 executions this day, realized 400.5 USDT before fees",
        f"{since + timedelta(hours=2):%m-%d %H:%M} BTC/USDT take-profit 1: sold 0.05 at 55000, "
        "realized 250 USDT",
        f"{since + timedelta(hours=3):%m-%d %H:%M} BTC/USDT trailing stop: sold 0.05 at 53000, "
        "realized 150.5 USDT",
    )
    db.close()
    assert AutoSell().render(FACTS) is None
