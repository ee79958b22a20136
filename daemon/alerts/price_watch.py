"""Personal price alerts by level: per symbol, the "above" levels and the "below" levels
in sorted lists, so a tick finds the alerts it crosses by bisection. Pure."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Watch:
    id: int
    user_id: int
    chat_id: int
    symbol: str
    above: bool  # fires when the price is at or above `price`; else at or below
    price: Decimal

    def describe(self) -> str:
        return f"{self.symbol} {'>' if self.above else '<'} {self.price}"


@dataclass
class _Levels:
    above: list[tuple[Decimal, int]] = field(default_factory=list)
    below: list[tuple[Decimal, int]] = field(default_factory=list)


class Watches:
    def __init__(self) -> None:
        self._watches: dict[int, Watch] = {}
        self._levels: dict[str, _Levels] = {}

    def __len__(self) -> int:
        return len(self._watches)

    def put(self, watch: Watch) -> None:
        self.remove(watch.id)
        levels = self._levels.setdefault(watch.symbol, _Levels())
        bisect.insort(levels.above if watch.above else levels.below, (watch.price, watch.id))
        self._watches[watch.id] = watch

    def remove(self, watch_id: int) -> None:
        watch = self._watches.pop(watch_id, None)
        if watch is None:
            return
        levels = self._levels[watch.symbol]
        side = levels.above if watch.above else levels.below
        del side[bisect.bisect_left(side, (watch.price, watch.id))]

    def replace_symbol(self, symbol: str, watches: list[Watch]) -> None:
        for watch in [w for w in self._watches.values() if w.symbol == symbol]:
            self.remove(watch.id)
        for watch in watches:
            self.put(watch)

    def crossed(self, symbol: str, price: Decimal) -> list[Watch]:
        """The alerts a price fires: above-levels at or below it, below-levels at or
        above it."""
        levels = self._levels.get(symbol)
        if levels is None:
            return []
        up = levels.above[: bisect.bisect_right(levels.above, (price, 1 << 62))]
        down = levels.below[bisect.bisect_left(levels.below, (price, -1)) :]
        return [self._watches[i] for _, i in (*up, *down)]
