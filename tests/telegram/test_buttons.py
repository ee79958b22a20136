"""Signed callback_data (pure): only our own, fresh buttons are honoured."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.telegram.buttons import MAX_CALLBACK_BYTES, ButtonRefused, sign, verify

KEY = b"k" * 32


def test_a_fresh_button_verifies_to_its_action_and_argument() -> None:
    data = sign(KEY, "bcast.send", "17", now=1000)
    assert verify(KEY, data, now=1059) == ("bcast.send", "17")


def test_a_button_older_than_sixty_seconds_is_stale() -> None:
    data = sign(KEY, "bcast.send", "17", now=1000)
    with pytest.raises(ButtonRefused, match="stale"):
        verify(KEY, data, now=1061)


def test_changing_any_part_or_the_key_is_forgery() -> None:
    data = sign(KEY, "bcast.send", "17", now=1000)
    action, arg, expiry, mac = data.split(":")
    for forged in (
        f"{action}:18:{expiry}:{mac}",
        f"bcast.cancel:{arg}:{expiry}:{mac}",
        f"{action}:{arg}:{int(expiry, 16) + 600:x}:{mac}",
    ):
        with pytest.raises(ButtonRefused, match="forged"):
            verify(KEY, forged, now=1000)
    with pytest.raises(ButtonRefused, match="forged"):
        verify(b"other-key" * 4, data, now=1000)


@pytest.mark.parametrize("data", ["", "x", "a:b:c", "a:b:c:d:e", "a b:1:ff:xxxxxxxxxxxx"])
def test_malformed_data_is_refused(data: str) -> None:
    with pytest.raises(ButtonRefused, match=r"malformed|forged"):
        verify(KEY, data, now=0)


@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz._", min_size=1, max_size=16),
    st.text(alphabet="0123456789", max_size=12),
    st.integers(min_value=0, max_value=2**33),
)
def test_signed_data_always_fits_telegrams_64_bytes(action: str, arg: str, now: int) -> None:
    data = sign(KEY, action, arg, now=now)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert verify(KEY, data, now=now) == (action, arg)


@given(st.text(min_size=1, max_size=20))
def test_any_forged_mac_is_refused_never_an_error(mac: str) -> None:
    """A modified client may put any UTF-8 in the MAC (non-ASCII made compare_digest raise
    TypeError: a traceback and "Something went wrong" in the chat): it is forgery."""
    data = sign(KEY, "bcast.send", "17", now=1000)
    action, arg, expiry, _ = data.split(":")
    with pytest.raises(ButtonRefused, match=r"forged|malformed"):
        verify(KEY, f"{action}:{arg}:{expiry}:{mac.replace(':', '')}é", now=1000)
