"""Secrets the daemon keeps in its own database (never in logs or config)."""

from __future__ import annotations

import secrets

from daemon.store import named_values

BUTTON_KEY = "buttons.key"


def button_key() -> bytes:
    """The HMAC key that signs callback buttons; made on first use, kept across restarts."""
    value = named_values.get(BUTTON_KEY)
    if value is None:
        value = secrets.token_hex(32)
        named_values.put(BUTTON_KEY, value)
    return bytes.fromhex(value)
