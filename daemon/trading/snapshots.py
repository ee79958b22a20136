"""Equity snapshots between fills: every few minutes the paper account's equity at the
current marks is recorded, so /pnl's day, week and month have a starting point even on
days without fills. A daemon component."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from daemon.store.database import Store
from daemon.trading.desk import PaperDesk
from daemon.waiting import pause

INTERVAL = 300.0


class EquityRecorder:
    name = "equity"

    def __init__(self, desk: PaperDesk, store: Store, interval: float = INTERVAL):
        self._desk = desk
        self._store = store
        self._interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        while not await pause(stop, self._interval):
            async with self._store.transaction():
                self._desk.snapshot()

    def health(self) -> str | None:
        return None  # the price feed's row says whether marks are fresh

    def facts(self) -> Mapping[str, int | str]:
        return {}
