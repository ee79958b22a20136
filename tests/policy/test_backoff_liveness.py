"""Back-off and poll liveness (pure)."""

from __future__ import annotations

from daemon.policy.backoff import Backoff
from daemon.policy.liveness import PollLiveness


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(initial=1, maximum=30)
    delays = [backoff.next_delay(0.5) for _ in range(7)]
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    backoff.reset()
    assert backoff.next_delay(0.5) == 1


def test_backoff_jitter_spreads_a_quarter_each_way() -> None:
    assert Backoff(4, 30).next_delay(0.0) == 3.0
    assert Backoff(4, 30).next_delay(0.999) < 5.0


def test_liveness_deadline_is_timeout_plus_grace_after_each_answer() -> None:
    live = PollLiveness(timeout=30, grace=15)
    assert not live.healthy(0)  # not started
    live.starting(0)
    assert live.healthy(45)
    assert not live.healthy(45.1)
    live.answered(40, next_poll_in=0)
    assert live.healthy(85)
    assert not live.healthy(85.1)
    assert live.last_answer_age(50) == 10


def test_a_planned_pause_moves_the_deadline() -> None:
    """Back-off in conflict mode is not a hang: the pause is added to the deadline."""
    live = PollLiveness(timeout=30, grace=15)
    live.answered(0, next_poll_in=60)
    assert live.healthy(105)
    assert not live.healthy(105.1)
