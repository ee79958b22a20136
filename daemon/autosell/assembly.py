"""AutoSell attached to paper trading: told of every fill by the desk (a buy arms a rule)
and of every quote the feed keeps (each one a tick). [autosell] applies at start."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from daemon.autosell.decide import Costs
from daemon.autosell.engine import AutoSell
from daemon.config import Settings
from daemon.store.database import Store
from daemon.trading.assembly import PaperTrading
from daemon.trading.settings import PaperSettings


def attach(
    paper: PaperTrading, settings: Settings, store: Store, clock: Callable[[], datetime]
) -> AutoSell:
    terms: PaperSettings = settings.section("paper")
    costs = Costs(terms.fee_bps, terms.slippage_bps)
    engine = AutoSell(settings.section("autosell"), paper.desk, paper.book, store, clock, costs)
    paper.desk.after_fill.append(engine.after_fill)
    paper.feed.listeners.append(engine.on_quotes)
    return engine
