"""Signed callback_data: a button is honoured only if we made it, recently. Pure.

callback_data = "<action>:<arg>:<expiry, hex epoch seconds>:<mac>", where mac is the
first 9 bytes of HMAC-SHA256 over the rest (12 base64url characters) under a key kept in
the database. A forged button (a modified client can send any callback_data) fails the
MAC; a stale one (older than the TTL, 60 s) fails the expiry. Either way nothing runs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

TTL_SECONDS = 60
MAX_CALLBACK_BYTES = 64  # Telegram's limit
_PART = re.compile(r"[A-Za-z0-9_.-]*")


class ButtonRefused(Exception):
    """str() says why, for the log: malformed, forged or stale."""


def _mac(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()[:9]
    return base64.urlsafe_b64encode(digest).decode()


def sign(key: bytes, action: str, arg: str, now: float, ttl: int = TTL_SECONDS) -> str:
    if not _PART.fullmatch(action) or not action or not _PART.fullmatch(arg):
        raise ValueError(f"button action/arg must be [A-Za-z0-9_.-], got {action!r}/{arg!r}")
    body = f"{action}:{arg}:{int(now) + ttl:x}"
    data = f"{body}:{_mac(key, body)}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback_data {data!r} exceeds {MAX_CALLBACK_BYTES} bytes")
    return data


def verify(key: bytes, data: str, now: float) -> tuple[str, str]:
    """(action, arg) of a button we signed that has not expired; else ButtonRefused."""
    parts = data.split(":")
    if len(parts) != 4 or not all(_PART.fullmatch(p) for p in parts[:2]):
        raise ButtonRefused("malformed")
    action, arg, expiry, mac = parts
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (TypeError),
    # and a modified client can send any UTF-8 it likes.
    if not hmac.compare_digest(mac.encode(), _mac(key, f"{action}:{arg}:{expiry}").encode()):
        raise ButtonRefused("forged")
    try:
        expires = int(expiry, 16)
    except ValueError:
        raise ButtonRefused("malformed") from None
    if now > expires:
        raise ButtonRefused("stale")
    return action, arg
