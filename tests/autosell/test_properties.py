"""Properties of the decision over generated rules and price paths (hypothesis): it never
sells more than is held, the ladder never sells more than the armed holding, a stale or
out-of-order tick never triggers, and the trailing stop never moves down."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.autosell.decide import Armed, Costs, Tick, arm, decide
from daemon.autosell.rules import RuleError, Spec, Target, checked
from daemon.money import total

T0 = datetime(2026, 11, 30, 9, 0)
percent = st.decimals(min_value=D("0.1"), max_value=D("60"), places=1)


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    gains = sorted(set(draw(st.lists(percent, max_size=4))))
    shares = [draw(st.decimals(min_value=D("0.1"), max_value=D("60"), places=1)) for _ in gains]
    while total(shares) > 100:
        shares.pop()
    targets = tuple(Target(g, s) for g, s in zip(gains, shares, strict=False))
    trail = draw(st.none() | percent)
    spec = Spec(
        stop_percent=draw(st.none() | percent.map(lambda p: -p)),
        targets=targets,
        trail=trail,
        arm=draw(st.none() | percent) if trail is not None else None,
        breakeven=bool(targets) and draw(st.booleans()),
        hold=draw(st.none() | st.integers(1, 100)),
    )
    try:
        return checked(spec)
    except RuleError:
        return Spec()


ticks = st.lists(
    st.tuples(
        st.decimals(min_value=D("1"), max_value=D("300"), places=2),  # price
        st.integers(-3, 10),  # seconds after the previous tick (negative: out of order)
        st.booleans(),  # fresh
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(specs(), st.decimals(min_value=D("0.00000001"), max_value=D("50"), places=8), ticks)
def test_decisions_respect_holdings_staleness_order_and_the_trailing_stop(
    spec: Spec, qty: D, path: list[tuple[D, int, bool]]
) -> None:
    costs = Costs(10, 5)
    state: Armed = arm(None, "X/USDT", spec, D(100), qty, T0, 1, 8)
    moment, sold, ladder = T0, D(0), D(0)
    for price, gap, fresh in path:
        moment += timedelta(seconds=gap)
        decision = decide(state, Tick("X/USDT", price, moment, fresh), moment, costs)
        taken = total([e.qty for e in decision.exits])
        if not fresh or (state.last_tick is not None and moment < state.last_tick):
            assert decision.exits == ()
            assert decision.after == state
        assert all(e.qty > 0 for e in decision.exits)
        assert taken <= state.held
        sold += taken
        ladder += total([e.qty for e in decision.exits if e.rule.startswith("take-profit")])
        if state.trail_stop is not None:
            assert decision.after.trail_stop is not None
            assert decision.after.trail_stop >= state.trail_stop
        state = decision.after
    assert sold <= qty
    assert state.held == qty - sold
    assert ladder <= qty
