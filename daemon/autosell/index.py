"""The armed rules, indexed by their trigger levels. Pure (values in, values out).

Per symbol, four sorted lists: stop levels (a tick at or below fires them), take-profit
levels (at or above), high-water marks (a tick above moves them) and time deadlines. A
tick finds what it touches by bisection, so it costs O(log n + k) in the rules on its
symbol, k being the rules it changes; the others are not looked at.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from daemon.autosell.decide import Armed, Costs, Decision, Tick, decide

Entry = tuple[Decimal, str]
TimeEntry = tuple[datetime, str]


@dataclass
class _Levels:
    stops: list[Entry] = field(default_factory=list)
    targets: list[Entry] = field(default_factory=list)
    highs: list[Entry] = field(default_factory=list)
    deadlines: list[TimeEntry] = field(default_factory=list)

    def lists(self) -> tuple[list[Entry], list[Entry], list[Entry]]:
        return self.stops, self.targets, self.highs


@dataclass(frozen=True)
class _Filed:
    stop: Decimal | None
    target: Decimal | None
    high: Decimal
    deadline: datetime | None


class RuleBook:
    def __init__(self, costs: Costs):
        self._costs = costs
        self._rules: dict[str, Armed] = {}
        self._filed: dict[str, _Filed] = {}
        self._levels: dict[str, _Levels] = {}

    def __len__(self) -> int:
        return len(self._rules)

    def __iter__(self) -> Iterator[tuple[str, Armed]]:
        return iter(sorted(self._rules.items()))

    def get(self, rule_id: str) -> Armed | None:
        return self._rules.get(rule_id)

    def on_symbol(self, symbol: str) -> list[str]:
        levels = self._levels.get(symbol)
        return [] if levels is None else sorted({rule for _, rule in levels.highs})

    def put(self, rule_id: str, state: Armed) -> None:
        """File `state` under `rule_id`, replacing what was there; a rule whose holding
        is gone is dropped."""
        self.remove(rule_id)
        if state.done:
            return
        stop, target = state.stop(self._costs), state.target()
        filed = _Filed(stop[0] if stop else None, target[0] if target else None, state.high,
                       state.deadline)  # fmt: skip
        levels = self._levels.setdefault(state.symbol, _Levels())
        for sorted_list, level in zip(levels.lists(), (filed.stop, filed.target, filed.high),
                                      strict=True):  # fmt: skip
            if level is not None:
                bisect.insort(sorted_list, (level, rule_id))
        if filed.deadline is not None:
            bisect.insort(levels.deadlines, (filed.deadline, rule_id))
        self._rules[rule_id] = state
        self._filed[rule_id] = filed

    def remove(self, rule_id: str) -> None:
        state = self._rules.pop(rule_id, None)
        filed = self._filed.pop(rule_id, None)
        if state is None or filed is None:
            return
        levels = self._levels[state.symbol]
        for sorted_list, level in zip(levels.lists(), (filed.stop, filed.target, filed.high),
                                      strict=True):  # fmt: skip
            if level is not None:
                del sorted_list[bisect.bisect_left(sorted_list, (level, rule_id))]
        if filed.deadline is not None:
            del levels.deadlines[bisect.bisect_left(levels.deadlines, (filed.deadline, rule_id))]
        if not levels.highs:
            del self._levels[state.symbol]

    def touched(self, symbol: str, price: Decimal, now: datetime) -> set[str]:
        """The rules a tick at `price` changes: stops at or above it, targets at or below
        it, high-water marks below it, deadlines passed."""
        levels = self._levels.get(symbol)
        if levels is None:
            return set()
        found = {rule for _, rule in levels.stops[bisect.bisect_left(levels.stops, (price, "")) :]}
        found.update(rule for _, rule in levels.targets[: _after(levels.targets, price)])
        below = bisect.bisect_left(levels.highs, (price, ""))
        found.update(rule for _, rule in levels.highs[:below])
        cut = bisect.bisect_right(levels.deadlines, (now, "\U0010ffff"))
        found.update(rule for _, rule in levels.deadlines[:cut])
        return found

    def decide(self, tick: Tick, now: datetime) -> list[tuple[str, Decision]]:
        """The decisions for the rules the tick touches; nothing is filed until `put`."""
        return [
            (rule_id, decide(self._rules[rule_id], tick, now, self._costs))
            for rule_id in sorted(self.touched(tick.symbol, tick.price, now))
        ]

    def symbols(self) -> list[str]:
        return sorted({state.symbol for state in self._rules.values()})

    def next_deadline(self, skip: Collection[str] = ()) -> datetime | None:
        """The earliest time exit, leaving out the rules in `skip`."""
        return min(
            (moment for levels in self._levels.values() for moment, rule in levels.deadlines
             if rule not in skip),
            default=None,
        )  # fmt: skip

    def due(self, now: datetime) -> list[str]:
        return sorted(
            rule
            for levels in self._levels.values()
            for moment, rule in levels.deadlines
            if moment <= now
        )


def _after(entries: list[Entry], price: Decimal) -> int:
    """How many entries have a level at or below `price`."""
    return bisect.bisect_right(entries, (price, "\U0010ffff"))
