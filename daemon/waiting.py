"""Waiting that a stop request cuts short: every pause in the daemon goes through here."""

from __future__ import annotations

import asyncio
import contextlib


async def pause(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`; True if `stop` was set (the pause then ends at once)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max(0.0, seconds))
    return stop.is_set()


async def wait_any(*events: asyncio.Event) -> None:
    """Return as soon as one of `events` is set."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def doze(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    """Sleep up to `seconds`, less when `stop` or `wake` is set; `wake` is cleared after."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wait_any(stop, wake), max(0.0, seconds))
    wake.clear()
