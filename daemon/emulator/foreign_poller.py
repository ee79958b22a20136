"""A second poller of a bot's token, started from the web chat's side panel: the
forgotten `python bot.py` that makes Telegram answer 409 Conflict.

It is a real HTTP client of the emulator's own Bot API, so the 409s, the counters and
the daemon's conflict policy are exactly what a real second process would cause. It
confirms no update (it never sends an offset), so the users' messages still reach the
daemon: the point is to watch the conflict, not to lose messages.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp

FOREIGN_AGENT = "foreign-poller (started from the web chat)"
POLL_SECONDS = 10
PAUSE_SECONDS = 1.0  # between polls that returned at once: an answer, a 409, an error


class ForeignPoller:
    def __init__(self, api_url: str, token: str):
        self._url = f"{api_url}/bot{token}/getUpdates"
        self._task: asyncio.Task[None] | None = None
        self._until = 0.0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, seconds: float) -> None:
        """Poll for `seconds` from now (again from now, if already polling)."""
        loop = asyncio.get_running_loop()
        self._until = loop.time() + seconds
        if not self.running:
            self._task = loop.create_task(self._poll(), name="foreign-poller")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        timeout = aiohttp.ClientTimeout(total=POLL_SECONDS + 5)
        async with aiohttp.ClientSession(
            headers={"User-Agent": FOREIGN_AGENT}, timeout=timeout
        ) as session:
            while loop.time() < self._until:
                left = max(1, min(POLL_SECONDS, int(self._until - loop.time())))
                try:
                    async with session.post(self._url, json={"timeout": left}) as response:
                        body = await response.json(content_type=None)
                except (aiohttp.ClientError, TimeoutError, ValueError):
                    body = None
                if not (isinstance(body, dict) and body.get("ok") and not body.get("result")):
                    # An update, a 409 or an error came back at once: do not spin on it.
                    await asyncio.sleep(PAUSE_SECONDS)
