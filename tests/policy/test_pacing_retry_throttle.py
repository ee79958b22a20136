"""The notification queue's pure policies: pacing buckets and pauses, retry times, the
public command throttle."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from daemon.policy.pacing import MARGIN, Pacer, PacingLimits
from daemon.policy.retry import RetryPolicy
from daemon.policy.throttle import CommandThrottle, Verdict

LIMITS = PacingLimits(global_per_second=30, chat_per_second=1, chat_burst=3, group_per_minute=20)


def sends_allowed(pacer: Pacer, receiver: int, is_group: bool, now: float, tries: int) -> int:
    allowed = 0
    for _ in range(tries):
        if pacer.wait(receiver, is_group, now) == 0:
            pacer.take(receiver, is_group, now)
            allowed += 1
    return allowed


def test_a_chat_gets_its_burst_then_one_a_second_with_a_margin() -> None:
    pacer = Pacer(LIMITS)
    assert sends_allowed(pacer, 5, False, 0.0, 10) == 3
    assert pacer.wait(5, False, 0.0) == pytest.approx(1 / MARGIN)  # 1.053 s
    assert sends_allowed(pacer, 5, False, 1.0, 10) == 0
    assert sends_allowed(pacer, 5, False, 1.06, 10) == 1


def test_a_group_gets_20_a_minute() -> None:
    pacer = Pacer(LIMITS)
    assert sends_allowed(pacer, -100, True, 0.0, 50) == 20
    assert pacer.wait(-100, True, 0.0) == pytest.approx(3 / MARGIN)  # a token every 3.16 s


def test_30_a_second_overall_however_many_chats() -> None:
    pacer = Pacer(LIMITS)
    allowed = sum(sends_allowed(pacer, chat, False, 0.0, 1) for chat in range(100))
    assert allowed == 30
    # Half a second later 14.25 tokens are back (28.5/s): a new chat takes its burst of
    # 3, then 11 other chats one each.
    assert sends_allowed(pacer, 1000, False, 0.5, 100) == 3
    assert sum(sends_allowed(pacer, chat, False, 0.5, 1) for chat in range(2000, 2100)) == 11


def test_a_pause_holds_one_receiver_and_pause_all_holds_everyone() -> None:
    pacer = Pacer(LIMITS)
    pacer.pause(7, until=5.0)
    assert pacer.wait(7, False, 1.0) == 4.0
    assert pacer.wait(8, False, 1.0) == 0.0
    pacer.pause_all(until=3.0)
    assert pacer.wait(8, False, 1.0) == 2.0
    assert pacer.wait(7, False, 5.0) == 0.0


def test_idle_receivers_are_forgotten_so_buckets_do_not_pile_up() -> None:
    pacer = Pacer(LIMITS)
    for chat in range(1000):
        pacer.take(chat, False, 0.0)
    pacer.pause(1, until=2.0)
    pacer.forget_idle(10.0)
    assert pacer._receivers == {}
    assert pacer._paused == {}


NOW = datetime(2026, 11, 29, 12, 0)


def test_retries_back_off_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(initial=1.0, maximum=8.0, max_age=3600.0)
    delays = [
        (policy.next_attempt(failures, NOW, NOW, jitter=0.5) or NOW) - NOW
        for failures in range(1, 7)
    ]
    assert [d.total_seconds() for d in delays] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_an_item_whose_next_try_would_pass_its_max_age_is_given_up() -> None:
    policy = RetryPolicy(initial=1.0, maximum=300.0, max_age=3600.0)
    queued = NOW - timedelta(seconds=3500)
    assert policy.next_attempt(10, queued, NOW, jitter=0.5) is None  # +300 s > 1 h old
    assert policy.next_attempt(2, queued, NOW, jitter=0.5) == NOW + timedelta(seconds=2)


def test_a_flooding_user_gets_one_notice_then_silence_until_the_window_frees() -> None:
    throttle = CommandThrottle(limit=3, window=60.0)
    verdicts = [throttle.check(42, float(t)) for t in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.NOTICE, Verdict.IGNORE, Verdict.IGNORE]
    assert throttle.check(7, 5.0) is Verdict.ALLOW  # others are not affected
    # Still hammering: refused commands count, so the window stays full.
    assert throttle.check(42, 59.0) is Verdict.IGNORE
    # Quiet for a window: allowed again, and a later flood gets a notice again.
    assert throttle.check(42, 200.0) is Verdict.ALLOW


def test_the_throttle_forgets_quiet_users() -> None:
    throttle = CommandThrottle(limit=3, window=60.0)
    for user in range(100):
        throttle.check(user, 0.0)
    throttle.forget_idle(61.0)
    assert throttle._seen == {}


def test_checking_sweeps_quiet_users_once_a_window() -> None:
    """No caller has to remember forget_idle: a check a window after the last sweep
    drops everyone quiet for that long."""
    throttle = CommandThrottle(limit=3, window=60.0)
    for user in range(100):
        throttle.check(user, 0.0)
    throttle.check(500, 30.0)  # within the window: no sweep yet
    assert len(throttle._seen) == 101
    throttle.check(501, 61.0)
    assert set(throttle._seen) == {500, 501}
