"""Personal price alerts, a daemon component: each quote the feed keeps is checked
against the levels set with /alert on its symbol; a crossed one fires once, straight to
the chat it was set in (not through the operators' routing tree).

Firing is one transaction: the alert marked fired (only if it had not fired) and the
message queued, so a restart can neither lose nor repeat it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal

from loguru import logger

from daemon.alerts.price_watch import Watch, Watches
from daemon.money import AmountError, plain, read_amount
from daemon.prices.quotes import Quote, QuoteBook
from daemon.store import outbox
from daemon.store import price_alerts as stored
from daemon.store.database import Store
from daemon.store.outbox import Priority, Receiver
from daemon.waiting import doze

MAX_PER_USER = 10


class PriceAlertRefused(ValueError):
    """str() says why the alert was not set."""


def _watch(row: stored.PriceAlertRow) -> Watch:
    return Watch(row.id, row.user_id, row.chat_id, row.symbol, row.above, row.price)


class PriceAlerts:
    name = "price_alerts"

    def __init__(self, book: QuoteBook, store: Store, clock: Callable[[], datetime]):
        self._book = book
        self._store = store
        self._clock = clock
        self._watches = Watches()
        self._dirty: set[str] = set()
        self._inbox: deque[list[Quote]] = deque()
        self._wake = asyncio.Event()
        self.fired = 0
        self.on_queued: Callable[[], None] = lambda: None

    # -- what /alert calls, in the command's transaction --------------------------------

    def add(self, user_id: int, chat_id: int, symbol: str, text: str) -> Watch:
        """`text`: "> 65000" or "< 58000.5". PriceAlertRefused: nothing stored."""
        key = symbol.upper()
        if key not in self._book.symbols:
            known = ", ".join(self._book.symbols) or "none"
            raise PriceAlertRefused(f"no price source for {symbol} (configured: {known})")
        op, level_text = text[:1], text[1:].strip()
        if op not in ("<", ">"):
            raise PriceAlertRefused("say > PRICE or < PRICE, e.g. /alert BTC/USDT > 65000")
        try:
            level = read_amount(level_text, "the price")
        except AmountError as exc:
            raise PriceAlertRefused(str(exc)) from None
        try:
            now_price = self._book.fresh_price(key)
        except LookupError as exc:
            raise PriceAlertRefused(
                f"{exc}: an alert needs the price now to tell a crossing"
            ) from None
        above = op == ">"
        if (above and now_price >= level) or (not above and now_price <= level):
            side = "above" if above else "below"
            raise PriceAlertRefused(
                f"{key} is already {side} {plain(level)} (now {plain(now_price)})"
            )
        if len(stored.active(user_id=user_id)) >= MAX_PER_USER:
            raise PriceAlertRefused(f"you have {MAX_PER_USER} alerts set, the most there may be: "
                                    "/alert del ID frees one")  # fmt: skip
        alert_id = stored.add(user_id, chat_id, key, above, level, self._clock())
        self._changed(key)
        return Watch(alert_id, user_id, chat_id, key, above, level)

    def mine(self, user_id: int) -> list[Watch]:
        return [_watch(row) for row in stored.active(user_id=user_id)]

    def delete(self, user_id: int, alert_id: int) -> bool:
        rows = [r for r in stored.active(user_id=user_id) if r.id == alert_id]
        if not rows or not stored.delete(alert_id, user_id):
            return False
        self._changed(rows[0].symbol)
        return True

    def _changed(self, symbol: str) -> None:
        self._dirty.add(symbol)
        self._wake.set()

    # -- the component -----------------------------------------------------------------

    async def on_quotes(self, quotes: list[Quote]) -> None:
        """The feed's listener: handled in the watcher's own task."""
        self._inbox.append(quotes)
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        async with self._store.transaction():
            for row in stored.active():
                self._watches.put(_watch(row))
        while not stop.is_set():
            if not self._inbox:
                await doze(stop, self._wake, 3600.0)
            if self._dirty:
                async with self._store.transaction():  # after the command's commits
                    for symbol in sorted(self._dirty):
                        self._watches.replace_symbol(
                            symbol, [_watch(r) for r in stored.active(symbol)]
                        )
                    self._dirty.clear()
            while self._inbox:
                for quote in self._inbox.popleft():
                    await self._check(quote)

    async def _check(self, quote: Quote) -> None:
        crossed = self._watches.crossed(quote.symbol, quote.price)
        if not crossed or not self._book.is_fresh(quote.symbol):
            return
        async with self._store.transaction():
            now = self._clock()
            for watch in crossed:
                if stored.fire(watch.id, quote.price, now):
                    self._tell(watch, quote.price, now)
        for watch in crossed:
            self._watches.remove(watch.id)
        self.on_queued()

    def _tell(self, watch: Watch, price: Decimal, now: datetime) -> None:
        word = "above" if watch.above else "below"
        text = (f"🔔 {watch.symbol} is {word} {plain(watch.price)}: {plain(price)} now "
                f"(your alert #{watch.id}, fired once)")  # fmt: skip
        outbox.enqueue(Receiver.chat(watch.chat_id), text, now, priority=Priority.ALERT,
                       parse_mode=None)  # fmt: skip
        self.fired += 1
        logger.info("price alert #{} fired: {} at {}", watch.id, watch.describe(), plain(price))

    def health(self) -> str | None:
        return None

    def facts(self) -> Mapping[str, int | str]:
        return {"active": len(self._watches), "fired": self.fired}
