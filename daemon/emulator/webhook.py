"""Webhook delivery: POST each queued update to the bot's URL until it answers 2xx.

The emulator only ever connects to loopback addresses. A webhook pointing anywhere else
(one "set from elsewhere" to reproduce a leftover deployment) is kept and reported by
getWebhookInfo, but its updates pile up undelivered, with last_error_message saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
from urllib.parse import urlsplit

import aiohttp

from daemon.emulator.world import BotWorld

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookDelivery:
    def __init__(
        self,
        world: BotWorld,
        retry_seconds: float = 1.0,
        max_retry: float = 10.0,
        timeout: float = 10.0,
    ):
        self._world = world
        self._retry = retry_seconds
        self._max_retry = max_retry
        self._timeout = timeout
        self._kick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0
        world.on_update.append(self._kick.set)

    def kick(self) -> None:
        """Start delivering (or look again) after the webhook or the queue changed."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._kick.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _record_error(self, message: str) -> None:
        if self._world.webhook is not None:
            self._world.webhook.last_error_date = self._world.now()
            self._world.webhook.last_error_message = message

    async def _run(self) -> None:
        backoff = self._retry
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                self._kick.clear()
                hook, world = self._world.webhook, self._world
                if hook is None:
                    return
                if not world.updates:
                    await self._kick.wait()
                    continue
                if not is_loopback_url(hook.url):
                    self._record_error("emulator: delivery to non-loopback hosts is disabled")
                    await self._kick.wait()
                    continue
                update = world.updates[0]
                if await self._post(session, hook.url, hook.secret_token, update):
                    if world.updates and world.updates[0] is update:
                        world.updates.popleft()
                    self.delivered += 1
                    backoff = self._retry
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._kick.wait(), backoff)
                backoff = min(self._max_retry, backoff * 2)

    async def _post(
        self,
        session: aiohttp.ClientSession,
        url: str,
        secret: str | None,
        update: dict[str, object],
    ) -> bool:
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[SECRET_HEADER] = secret
        try:
            async with session.post(url, data=json.dumps(update), headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True
                self._record_error(
                    f"Wrong response from the webhook: {response.status} {response.reason}"
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._record_error(f"Connection error: {type(exc).__name__}")
        return False
