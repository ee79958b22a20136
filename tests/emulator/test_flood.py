"""Flood control rules as pure functions of a clock value."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.emulator.flood import FloodControl, FloodSettings

PRIVATE, GROUP = 1, -4000000001


def test_a_private_chat_gets_its_burst_then_one_per_second() -> None:
    flood = FloodControl(FloodSettings(chat_burst=3))
    assert [flood.admit(PRIVATE, False, 0.0) for _ in range(4)] == [None, None, None, 1]
    assert flood.admit(PRIVATE, False, 0.5) == 1
    assert flood.admit(PRIVATE, False, 1.0) is None
    assert flood.admit(PRIVATE, False, 1.0) == 1


def test_a_refused_send_consumes_nothing() -> None:
    """A client that waits retry_after and sends again gets through."""
    flood = FloodControl(FloodSettings(chat_burst=1))
    assert flood.admit(PRIVATE, False, 0.0) is None
    retry_after = flood.admit(PRIVATE, False, 0.1)
    for _ in range(5):
        flood.admit(PRIVATE, False, 0.2)
    assert retry_after is not None
    assert flood.admit(PRIVATE, False, 0.1 + retry_after) is None


def test_a_group_gets_20_per_minute() -> None:
    flood = FloodControl()
    assert all(flood.admit(GROUP, True, 0.0) is None for _ in range(20))
    assert flood.admit(GROUP, True, 0.0) == 3  # one more token takes 60/20 s
    assert flood.admit(GROUP, True, 3.0) is None


def test_30_per_second_overall_across_chats() -> None:
    flood = FloodControl(FloodSettings(grace_seconds=0))
    admitted = [flood.admit(chat, False, 0.0) for chat in range(100, 131)]
    assert admitted[:30] == [None] * 30
    assert admitted[30] == 1


def test_the_grace_admits_a_send_whose_token_is_due_within_it() -> None:
    """At 30/s a token is due every 33 ms: within a 50 ms grace it is admitted, the next
    one (due in 67 ms) is not."""
    flood = FloodControl(FloodSettings(grace_seconds=0.05))
    admitted = [flood.admit(chat, False, 0.0) for chat in range(100, 132)]
    assert admitted[:31] == [None] * 31
    assert admitted[31] == 1


def test_switched_off_admits_everything() -> None:
    flood = FloodControl(FloodSettings(enabled=False))
    assert all(flood.admit(PRIVATE, False, 0.0) is None for _ in range(1000))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"burst": 3}, "unknown flood setting 'burst'"),
        ({"chat_burst": 0}, "flood setting 'chat_burst' must be a positive number, got 0"),
        ({"enabled": "no"}, "flood setting 'enabled' must be true or false, got 'no'"),
        (
            {"global_per_second": True},
            "flood setting 'global_per_second' must be a positive number, got True",
        ),
    ],
)
def test_bad_settings_are_refused_by_name(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match="flood setting") as refused:
        FloodSettings().updated(changes)
    assert str(refused.value) == message


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 0.5), st.integers(0, 3)), min_size=1, max_size=300))
def test_admitted_sends_never_exceed_burst_plus_rate(sends: list[tuple[float, int]]) -> None:
    """Over any run, each chat and the bot as a whole stay within capacity + rate × time."""
    limits = FloodSettings(global_per_second=5, chat_per_second=1, chat_burst=2, grace_seconds=0.05)
    flood, now = FloodControl(limits), 0.0
    admitted: dict[int, int] = {}
    for gap, chat in sends:
        now += gap
        if flood.admit(chat, False, now) is None:
            admitted[chat] = admitted.get(chat, 0) + 1
    horizon = now + limits.grace_seconds
    for count in admitted.values():
        assert count <= limits.chat_burst + limits.chat_per_second * horizon + 1e-9
    assert sum(admitted.values()) <= limits.global_per_second * (1 + horizon) + 1e-9
