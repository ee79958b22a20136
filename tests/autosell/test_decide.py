"""The pure decision: each rule kind against ticks, gaps filled at the tick's price,
stale and out-of-order ticks ignored, re-arming that keeps the high-water mark, and the
index finding exactly the rules a tick touches."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal as D

from daemon.autosell.decide import Armed, Costs, Tick, arm, decide
from daemon.autosell.index import RuleBook
from daemon.autosell.rules import parse
from daemon.money import plain

T0 = datetime(2026, 11, 30, 9, 0)
NO_COSTS = Costs()


def armed(rule: str, entry: str = "100", qty: str = "1") -> Armed:
    return arm(None, "BTC/USDT", parse(rule.split()), D(entry), D(qty), T0, 1, 8)


def tick(price: str, seconds: int = 1, fresh: bool = True) -> Tick:
    return Tick("BTC/USDT", D(price), T0 + timedelta(seconds=seconds), fresh)


def run(
    state: Armed, *prices: str, costs: Costs = NO_COSTS
) -> tuple[Armed, list[tuple[str, str, str]]]:
    """Feed prices one second apart, after the last tick applied; (rule, qty, price) of
    every exit."""
    sold = []
    start = int((state.last_tick - T0).total_seconds()) if state.last_tick else 0
    for n, price in enumerate(prices, start=start + 1):
        decision = decide(state, tick(price, n), T0 + timedelta(seconds=n), costs)
        sold += [(e.rule, plain(e.qty), plain(e.price)) for e in decision.exits]
        state = decision.after
    return state, sold


def test_a_gap_down_through_the_stop_sells_everything_at_the_ticks_price() -> None:
    state, sold = run(armed("sl=-5%"), "99", "97", "90")
    assert sold == [("stop-loss", "1", "90")]
    assert state.done


def test_a_two_step_ladder_sells_shares_of_the_armed_holding_then_the_rest() -> None:
    state, sold = run(armed("tp=+10%:50%,+20%:50%", qty="3"), "109", "110", "115", "121")
    assert sold == [("take-profit 1", "1.5", "110"), ("take-profit 2", "1.5", "121")]
    assert state.done


def test_a_gap_up_past_two_targets_takes_both_with_their_own_keys() -> None:
    decision = decide(armed("tp=+10%:25%,+20%:25%", qty="4"), tick("130"), T0, NO_COSTS)
    assert [(e.rule, e.qty, e.key) for e in decision.exits] == [
        ("take-profit 1", D(1), "autosell:BTC/USDT:1:tp1"),
        ("take-profit 2", D(1), "autosell:BTC/USDT:1:tp2"),
    ]
    assert decision.after.held == D(2)


def test_the_trailing_stop_arms_after_the_gain_and_only_moves_up() -> None:
    state, sold = run(armed("trail=10% arm=+5%"), "104", "95")
    assert sold == []
    assert state.trail_stop is None
    state, sold = run(state, "120", "110", "109")
    assert state.trail_stop == D("108.0")
    assert sold == []
    state, sold = run(state, "108")
    assert sold == [("trailing stop", "1", "108")]


def test_break_even_moves_the_stop_to_entry_plus_costs_after_the_first_target() -> None:
    costs = Costs(fee_bps=10, slippage_bps=5)
    state, sold = run(armed("sl=-10% tp=+10%:50%,+30%:50% be=on"), "110", costs=costs)
    assert sold == [("take-profit 1", "0.5", "110")]
    level, rule = state.stop(costs) or (D(0), "")
    assert rule == "break-even"
    assert D("100.25") < level < D("100.26")
    _, sold = run(state, "100.2", costs=costs)
    assert sold == [("break-even", "0.5", "100.2")]


def test_a_time_exit_sells_at_the_first_fresh_price_after_the_deadline() -> None:
    state = armed("time=1h")
    late = T0 + timedelta(hours=1, seconds=5)
    stale = decide(state, Tick("BTC/USDT", D(101), late, fresh=False), late, NO_COSTS)
    assert (stale.exits, stale.ignored) == ((), "stale")
    sold = decide(state, Tick("BTC/USDT", D(101), late), late, NO_COSTS)
    assert [(e.rule, e.level) for e in sold.exits] == [("time", None)]


def test_a_tick_older_than_the_last_applied_changes_nothing() -> None:
    state, _ = run(armed("sl=-5%"), "101", "102")
    old = decide(state, tick("50", 1), T0, NO_COSTS)
    assert (old.exits, old.ignored, old.after) == ((), "out of order", state)


def test_rearming_restarts_the_ladder_on_the_new_entry_and_keeps_the_high() -> None:
    state, sold = run(armed("tp=+10%:50% trail=5%", qty="2"), "111", "106")
    assert sold == [("take-profit 1", "1", "111")]
    again = arm(state, state.symbol, state.spec, D("105"), D(3), T0 + timedelta(hours=1), 2, 8)
    assert (again.entry, again.armed_qty, again.steps, again.high) == (D(105), D(3), 0, D(111))
    assert again.trail_stop == state.trail_stop
    assert again.opened_at == T0
    target = again.target()
    assert target is not None
    assert target[0] == D("115.5")


def test_the_index_finds_only_the_rules_a_tick_touches() -> None:
    book = RuleBook(NO_COSTS)
    for n, rule in enumerate(["sl=-5%", "sl=-20%", "tp=+10%:100%", "tp=+50%:100%"]):
        state = armed(rule)
        book.put(f"r{n}", state)
    book.put("other", arm(None, "ETH/USDT", parse(["sl=-1%"]), D(100), D(1), T0, 1, 8))
    assert book.touched("BTC/USDT", D("100"), T0) == set()
    assert book.touched("BTC/USDT", D("95"), T0) == {"r0"}
    assert book.touched("BTC/USDT", D("79"), T0) == {"r0", "r1"}
    # Above 100 every high-water mark moves; the first target is reached at 110.
    assert book.touched("BTC/USDT", D("110"), T0) == {"r0", "r1", "r2", "r3"}
    decisions = dict(book.decide(tick("95"), T0))
    assert list(decisions) == ["r0"]
    assert decisions["r0"].exits[0].rule == "stop-loss"
    book.put("r0", decisions["r0"].after)  # sold out: dropped
    assert book.get("r0") is None
    assert book.on_symbol("BTC/USDT") == ["r1", "r2", "r3"]
