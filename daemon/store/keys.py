"""Secrets the daemon keeps in its own database (never in logs or config)."""

from __future__ import annotations

import secrets

from daemon.store import named_values

BUTTON_KEY = "buttons.key"


def button_key() -> bytes:
    """The HMAC key that signs callback buttons; made on first use, kept across restarts."""
    value = named_values.get(BUTTON_KEY)
    if value is None:
        value = named_values.put_if_absent(BUTTON_KEY, secrets.token_hex(32))
    return bytes.fromhex(value)
