"""Reading python-telegram-bot's exceptions the same way everywhere."""

from __future__ import annotations

from datetime import timedelta

from telegram.error import RetryAfter

from daemon.logs import redact

MAX_DESCRIPTION = 120


def retry_after_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def describe(error: BaseException) -> str:
    """One short line: a proxy's 5xx page or a long httpx message must not flood the log.

    Redacted before it is cut: a secret cut in half is no longer recognisable later."""
    whole = redact(str(error).strip())
    text = whole.splitlines()[0] if whole else type(error).__name__
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"
