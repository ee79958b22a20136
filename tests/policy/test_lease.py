"""The lease's timing on the node's monotonic clock (pure)."""

from __future__ import annotations

import pytest

from daemon.policy.lease import ANSWER_SLACK, GUARD, LeaseTiming


def test_the_permit_ends_before_the_database_can_expire_the_lease() -> None:
    """Counted from the renewal's sending, minus the guard: the database stamps its
    expiry later than that, so the leader's permit always ends first."""
    timing = LeaseTiming(10)
    assert timing.permit_until(100.0) == 110.0 - GUARD
    assert timing.permit_until(100.0) < 100.0 + timing.lease


def test_a_leader_renews_four_times_a_lease_and_a_standby_looks_at_least_every_second() -> None:
    assert LeaseTiming(10).renew_every == 2.5
    assert LeaseTiming(10).look_every == 1.0
    assert LeaseTiming(3).look_every == 0.75


@pytest.mark.parametrize(
    ("left", "configured", "expected"),
    [
        (9.5, 30, 8),  # the long poll shrinks to end before the permit
        (9.5, 5, 5),  # a shorter configured poll is kept
        (2.5, 30, 1),
        (1.9, 30, None),  # under a second of room: no long poll now
        (1.5, 0, 0),  # the first poll of a term is short, and fits
        (0.9, 0, None),  # not even a short one fits: its answer could come too late
        (-1.0, 30, None),
    ],
)
def test_a_poll_is_only_sent_when_its_answer_comes_before_the_permit_ends(
    left: float, configured: int, expected: int | None
) -> None:
    timing = LeaseTiming(10)
    assert timing.poll_seconds(100.0, 100.0 + left, configured) == expected
    if expected is not None:
        assert 100.0 + expected + ANSWER_SLACK <= 100.0 + left
