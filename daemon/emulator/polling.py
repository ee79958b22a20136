"""getUpdates as Telegram serves it: one pending long poll per bot, and who gets the 409.

- A long poll (timeout > 0) that finds nothing to return waits; if another long poll is
  already waiting, the *older* one is ended with the 409 "terminated by other getUpdates
  request".
- A short poll (timeout 0) answers at once and displaces nobody.
- A poll whose client disconnected is dropped silently (its successor sees no 409).
- setWebhook ends a waiting poll with "terminated by setWebhook request".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from daemon.emulator.errors import CONFLICT_OTHER_POLL, CONFLICT_WEBHOOK_ACTIVE, ApiError, conflict
from daemon.emulator.world import BotWorld


@dataclass
class _Waiter:
    caller: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    ended_by: ApiError | None = None


class LongPolls:
    def __init__(self, world: BotWorld):
        self._world = world
        self._pending: _Waiter | None = None
        world.on_update.append(self._wake_pending)

    @property
    def waiting_caller(self) -> str | None:
        return self._pending.caller if self._pending else None

    def _wake_pending(self) -> None:
        if self._pending is not None:
            self._pending.wake.set()

    def end_pending(self, text: str) -> None:
        """End the waiting poll (if any) with a 409 carrying `text`."""
        waiter, self._pending = self._pending, None
        if waiter is not None:
            waiter.ended_by = conflict(text)
            waiter.wake.set()

    async def get_updates(
        self,
        offset: int,
        limit: int,
        poll_seconds: int,
        caller: str,
        allowed_updates: list[str] | None,
    ) -> list[dict[str, Any]]:
        world = self._world
        if world.webhook is not None:
            raise conflict(CONFLICT_WEBHOOK_ACTIVE)
        world.set_allowed_updates(allowed_updates)
        world.confirm(offset)
        ready = world.take(limit)
        if ready or poll_seconds == 0:
            return ready
        if self._pending is not None:
            self.end_pending(CONFLICT_OTHER_POLL)
        waiter = _Waiter(caller)
        self._pending = waiter
        loop = asyncio.get_running_loop()
        deadline = loop.time() + poll_seconds
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(waiter.wake.wait(), remaining)
                except TimeoutError:
                    break
                if waiter.ended_by is not None:
                    raise waiter.ended_by
                ready = world.take(limit)
                if ready:
                    return ready
                waiter.wake.clear()
        finally:
            # Reached on answer, on 409 and on cancellation (the client went away).
            if self._pending is waiter:
                self._pending = None
        if waiter.ended_by is not None:
            raise waiter.ended_by
        return world.take(limit)
