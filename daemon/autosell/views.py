"""A rule as /autosell list shows it: its live levels. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from daemon.autosell.decide import Armed, Costs, target_qty


@dataclass(frozen=True)
class RuleView:
    symbol: str
    rule: str  # the canonical text
    held: Decimal
    entry: Decimal
    stop: tuple[Decimal, str] | None  # the level in force and the rule that set it
    target: tuple[Decimal, int, Decimal] | None  # level, number (from 1), quantity it sells
    targets: int
    high: Decimal
    trail_arms_at: Decimal | None  # None once armed, or with no trail
    seconds_left: float | None
    held_back: tuple[str, ...]


def view(state: Armed, costs: Costs, now: datetime) -> RuleView:
    target = state.target()
    arms_at = state.trail_arms_at() if state.trail_stop is None else None
    deadline = state.deadline
    return RuleView(
        state.symbol,
        state.spec.text(),
        state.held,
        state.entry,
        state.stop(costs),
        None if target is None else (target[0], target[1] + 1, target_qty(state, target[1])),
        len(state.spec.targets),
        state.high,
        arms_at,
        None if deadline is None else max((deadline - now).total_seconds(), 0.0),
        state.held_back,
    )
