"""(rule state, tick) → decisions. Pure: no I/O, no clock of its own (`now` is passed).

A rule covers a symbol's whole holding at its average cost. It is armed when the holding
opens, and armed again when a buy or an edit changes it: the ladder then restarts on the
new entry and quantity, the high-water mark carries over. Each arming has a number, part
of every trigger's idempotency key, so a trigger fills once however often it is decided.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from daemon.autosell.rules import Spec
from daemon.money import divide, exact, multiply, total
from daemon.trading.lots import floor_to

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Costs:
    """What a round trip costs, as a factor on the entry: the break-even stop sits at
    entry × factor, where a sale just pays back the buy's fee, its own fee and slippage."""

    fee_bps: int = 0
    slippage_bps: int = 0

    @property
    @exact
    def break_even(self) -> Decimal:
        fee, slip = Decimal(self.fee_bps) / 10_000, Decimal(self.slippage_bps) / 10_000
        return (1 + fee) / ((1 - fee) * (1 - slip))


@dataclass(frozen=True)
class Tick:
    symbol: str
    price: Decimal
    observed_at: datetime
    fresh: bool = True


@dataclass(frozen=True)
class Armed:
    """A rule's state: everything a decision needs, all of it persisted."""

    symbol: str
    spec: Spec
    entry: Decimal  # average cost per unit when armed
    armed_qty: Decimal  # the holding when armed: ladder shares are of this
    held: Decimal  # what is held now
    high: Decimal  # high-water mark since the holding opened
    opened_at: datetime  # when the holding opened: time exits count from here
    arming: int  # increases with every arming of this symbol, never reused
    decimals: int = 8  # the base asset's step
    steps: int = 0  # ladder targets done since armed
    trail_stop: Decimal | None = None  # only moves up
    last_tick: datetime | None = None
    held_back: tuple[str, ...] = ()  # triggers reported, not executed, while paused

    @property
    def done(self) -> bool:
        return self.held <= 0

    @property
    def deadline(self) -> datetime | None:
        if self.spec.hold is None:
            return None
        return self.opened_at + timedelta(seconds=self.spec.hold)

    @exact
    def stop(self, costs: Costs) -> tuple[Decimal, str] | None:
        """The highest stop in force and the rule that set it."""
        levels: list[tuple[Decimal, str]] = []
        spec = self.spec
        if spec.stop_percent is not None:
            levels.append((self.entry * (1 + spec.stop_percent / HUNDRED), "stop-loss"))
        if spec.stop_price is not None:
            levels.append((spec.stop_price, "stop-loss"))
        if spec.breakeven and self.steps > 0:
            levels.append((self.entry * costs.break_even, "break-even"))
        if self.trail_stop is not None:
            levels.append((self.trail_stop, "trailing stop"))
        return max(levels, key=lambda level: level[0]) if levels else None

    @exact
    def target(self) -> tuple[Decimal, int] | None:
        """The next take-profit level and its index."""
        if self.steps >= len(self.spec.targets):
            return None
        return self.entry * (1 + self.spec.targets[self.steps].gain / HUNDRED), self.steps

    @exact
    def trail_arms_at(self) -> Decimal | None:
        if self.spec.trail is None:
            return None
        return self.entry * (1 + (self.spec.arm or 0) / HUNDRED)


@dataclass(frozen=True)
class Exit:
    """A sale a rule decided: `rule` names it for people, `key` makes it fill once."""

    symbol: str
    rule: str
    key: str
    qty: Decimal
    price: Decimal  # the tick's price: a gap fills there, never at the level
    level: Decimal | None  # the level crossed; None for a time exit


@dataclass(frozen=True)
class Decision:
    observed: Armed  # the tick applied (high-water mark, trailing stop), no exit taken
    exits: tuple[Exit, ...]
    after: Armed  # `observed` with the exits taken
    ignored: str = ""  # why the tick changed nothing ("stale", "out of order")


def trigger_key(state: Armed, slug: str) -> str:
    return f"autosell:{state.symbol}:{state.arming}:{slug}"


@exact
def observe(state: Armed, price: Decimal, at: datetime) -> Armed:
    """The tick's effect on what is tracked: a new high, a trailing stop moved up."""
    high = max(state.high, price)
    trail_stop = state.trail_stop
    arms_at = state.trail_arms_at()
    if state.spec.trail is not None and arms_at is not None and high >= arms_at:
        level = high * (1 - state.spec.trail / HUNDRED)
        trail_stop = level if trail_stop is None else max(trail_stop, level)
    return replace(state, high=high, trail_stop=trail_stop, last_tick=at)


@exact
def target_qty(state: Armed, index: int) -> Decimal:
    targets = state.spec.targets
    if total([t.fraction for t in targets[: index + 1]]) >= HUNDRED:
        return state.held  # the last share of a full ladder: all that is left, no dust
    share = divide(multiply(state.armed_qty, targets[index].fraction), HUNDRED)
    return min(floor_to(share, state.decimals), state.held)


def exits(state: Armed, price: Decimal, now: datetime, costs: Costs) -> tuple[Armed, list[Exit]]:
    """The exits at `price`: take-profits first (a gap up may pass several), then the
    stop, then a due time exit; and the state once they are taken."""
    taken: list[Exit] = []
    while not state.done:
        target = state.target()
        if target is None or price < target[0]:
            break
        level, index = target
        qty = target_qty(state, index)
        state = replace(state, steps=state.steps + 1)
        if qty > 0:
            name = f"take-profit {index + 1}"
            taken.append(Exit(state.symbol, name, trigger_key(state, f"tp{index + 1}"), qty,
                              price, level))  # fmt: skip
            state = replace(state, held=state.held - qty)
    stop = state.stop(costs)
    if not state.done and stop is not None and price <= stop[0]:
        level, name = stop
        taken.append(Exit(state.symbol, name, trigger_key(state, "stop"), state.held, price, level))
        state = replace(state, held=Decimal(0))
    deadline = state.deadline
    if not state.done and deadline is not None and now >= deadline:
        taken.append(
            Exit(state.symbol, "time", trigger_key(state, "time"), state.held, price, None)
        )
        state = replace(state, held=Decimal(0))
    return state, taken


def decide(state: Armed, tick: Tick, now: datetime, costs: Costs) -> Decision:
    """What `tick` does to the rule. A stale tick, or one older than the last applied,
    changes nothing."""
    if not tick.fresh:
        return Decision(state, (), state, "stale")
    if state.last_tick is not None and tick.observed_at < state.last_tick:
        return Decision(state, (), state, "out of order")
    observed = observe(state, tick.price, tick.observed_at)
    after, taken = exits(observed, tick.price, now, costs)
    return Decision(observed, tuple(taken), after)


def arm(
    previous: Armed | None,
    symbol: str,
    spec: Spec,
    entry: Decimal,
    held: Decimal,
    now: datetime,
    arming: int,
    decimals: int,
) -> Armed:
    """A rule armed on the holding as it is now. A holding that was already covered
    keeps its high-water mark, trailing stop and opening time; the ladder restarts."""
    if previous is None or previous.done:
        return Armed(symbol, spec, entry, held, held, entry, now, arming, decimals)
    trail_stop = previous.trail_stop if spec.trail is not None else None
    return replace(previous, spec=spec, entry=entry, armed_qty=held, held=held, steps=0,
                   arming=arming, decimals=decimals, trail_stop=trail_stop,
                   held_back=())  # fmt: skip
