"""Conflict policy (pure): when 409s mean a foreign poller, how slow to go, when to clear."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from daemon.policy.backoff import Backoff
from daemon.policy.conflicts import NOTIFY_EVERY, ConflictTracker, Verdict


def tracker() -> ConflictTracker:
    return ConflictTracker(threshold=3, window=60, backoff=Backoff(15, 60), quiet=35)


def test_isolated_conflicts_are_retried_soon() -> None:
    """Two 409s within the window are tolerated and retried after about a second."""
    t = tracker()
    assert t.on_conflict(0) is Verdict.ISOLATED
    assert t.on_conflict(10) is Verdict.ISOLATED
    assert 0.75 <= t.delay(Verdict.ISOLATED, 0.5) <= 1.25
    assert not t.in_conflict


def test_conflicts_spread_beyond_the_window_stay_isolated() -> None:
    t = tracker()
    for at in (0, 61, 122, 183):
        assert t.on_conflict(at) is Verdict.ISOLATED


def test_threshold_within_window_starts_one_episode() -> None:
    t = tracker()
    t.on_conflict(0)
    t.on_conflict(5)
    assert t.on_conflict(9) is Verdict.FOREIGN_DETECTED
    assert t.on_conflict(30) is Verdict.FOREIGN_ONGOING
    assert t.episodes == 1
    assert t.total == 4


def test_admins_are_told_once_per_episode_and_at_most_hourly() -> None:
    t = tracker()
    for at in (0, 1, 2):
        t.on_conflict(at)
    assert t.should_notify(2)
    assert not t.should_notify(3)
    assert t.on_answer(2 + 35)  # quiet long enough: cleared
    for at in (100, 101, 102):
        t.on_conflict(at)
    assert not t.should_notify(102)  # a new episode within the hour stays quiet
    for at in (NOTIFY_EVERY + 200, NOTIFY_EVERY + 201, NOTIFY_EVERY + 202):
        t.on_conflict(at)
    t.on_answer(NOTIFY_EVERY + 300)
    for at in (NOTIFY_EVERY + 400, NOTIFY_EVERY + 401, NOTIFY_EVERY + 402):
        t.on_conflict(at)
    assert t.should_notify(NOTIFY_EVERY + 402)


def test_an_answer_soon_after_a_conflict_does_not_clear_it() -> None:
    """Between a foreign poller's requests one of ours may succeed: not yet recovery."""
    t = tracker()
    for at in (0, 1, 2):
        t.on_conflict(at)
    assert not t.on_answer(10)
    assert t.in_conflict
    assert t.on_answer(40)
    assert not t.in_conflict


@given(st.lists(st.floats(min_value=0, max_value=0.999), min_size=1, max_size=50))
def test_conflict_delays_stay_within_bounds(jitters: list[float]) -> None:
    """In conflict the loop never polls faster than 0.75 × the first delay, nor waits
    longer than the cap: a bounded request rate both ways."""
    t = tracker()
    for at in (0, 1, 2):
        t.on_conflict(at)
    for jitter in jitters:
        assert 15 * 0.75 <= t.delay(Verdict.FOREIGN_ONGOING, jitter) <= 60
