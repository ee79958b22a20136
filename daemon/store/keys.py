"""Secrets the daemon keeps in its own database (never in logs or config)."""

from __future__ import annotations

import secrets

from daemon.store.models import KeyValue

BUTTON_KEY = "buttons.key"


def button_key() -> bytes:
    """The HMAC key that signs callback buttons; made on first use, kept across restarts."""
    row = KeyValue.get_or_none(KeyValue.key == BUTTON_KEY)
    if row is None:
        value = secrets.token_hex(32)
        KeyValue.insert(key=BUTTON_KEY, value=value).execute()
        return bytes.fromhex(value)
    return bytes.fromhex(row.value)
