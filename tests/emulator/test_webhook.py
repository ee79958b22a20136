"""Webhooks: the 409s they cause for pollers, and delivery with the secret header."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from telegram.error import BadRequest, Conflict

from daemon.emulator.client import BotControl
from daemon.emulator.errors import CONFLICT_SET_WEBHOOK, CONFLICT_WEBHOOK_ACTIVE
from daemon.emulator.webhook import SECRET_HEADER
from tests.emulator.ptb import ptb_bot, running
from tests.emulator.test_polling import wait_until_polling

USER = 502
LEFTOVER = "https://old-deployment.example.invalid/hook"


async def test_getupdates_while_a_webhook_is_set_is_a_409(bot: BotControl) -> None:
    """A leftover webhook blocks polling with Telegram's webhook 409 until it is deleted,
    and deleting it without drop_pending_updates keeps what was queued."""
    bot.set_webhook_elsewhere(LEFTOVER)
    queued = bot.send_text(USER, "/start")["update_id"]
    async with running(ptb_bot(bot)) as client:
        with pytest.raises(Conflict) as refused:
            await client.get_updates()
        assert str(refused.value) == CONFLICT_WEBHOOK_ACTIVE
        info = await client.get_webhook_info()
        assert (info.url, info.pending_update_count) == (LEFTOVER, 1)
        assert await client.delete_webhook()
        assert (await client.get_webhook_info()).url == ""
        assert [u.update_id for u in await client.get_updates()] == [queued]
    assert bot.counters()["conflicts"] == 1


async def test_set_webhook_ends_a_waiting_poll(bot: BotControl) -> None:
    async with running(ptb_bot(bot, "poller")) as client:
        waiting = asyncio.create_task(client.get_updates(timeout=10))
        await wait_until_polling(bot, "poller")
        bot.set_webhook_elsewhere(LEFTOVER)
        with pytest.raises(Conflict) as ended:
            await waiting
    assert str(ended.value) == CONFLICT_SET_WEBHOOK


async def test_a_non_loopback_webhook_is_never_contacted(bot: BotControl) -> None:
    """The emulator keeps such updates pending and says why in getWebhookInfo."""
    bot.set_webhook_elsewhere(LEFTOVER)
    bot.send_text(USER, "hello")
    async with running(ptb_bot(bot)) as client:
        for _ in range(50):
            info = await client.get_webhook_info()
            if info.last_error_message:
                break
            await asyncio.sleep(0.05)
    assert info.last_error_message == "emulator: delivery to non-loopback hosts is disabled"
    assert info.pending_update_count == 1


async def test_plain_http_webhooks_are_refused_beyond_loopback(bot: BotControl) -> None:
    async with running(ptb_bot(bot)) as client:
        with pytest.raises(
            BadRequest, match=r"^Bad webhook: an https url must be provided for webhook$"
        ):
            await client.set_webhook("http://example.invalid/hook")
        with pytest.raises(BadRequest, match=r"^Secret token contains unallowed characters$"):
            await client.set_webhook("https://example.invalid/hook", secret_token="no spaces")


async def test_drop_pending_updates_clears_the_queue(bot: BotControl) -> None:
    async with running(ptb_bot(bot)) as client:
        bot.send_text(USER, "one")
        await client.delete_webhook(drop_pending_updates=True)
        assert bot.pending_updates() == []
        bot.send_text(USER, "two")
        await client.set_webhook(LEFTOVER, drop_pending_updates=True)
        assert (await client.get_webhook_info()).pending_update_count == 0


@dataclass
class Receiver:
    """A webhook endpoint on loopback that fails its first `failures` deliveries."""

    failures: int
    received: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)
    attempts: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.attempts <= self.failures:
            return web.Response(status=500, text="not yet")
        self.received.append((json.loads(await request.read()), request.headers.get(SECRET_HEADER)))
        return web.Response(text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver(failures=2)
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    hook.url = f"http://127.0.0.1:{port}/hook"
    yield hook
    await runner.cleanup()


async def test_updates_are_posted_with_the_secret_and_retried(
    bot: BotControl, receiver: Receiver
) -> None:
    """Delivery carries X-Telegram-Bot-Api-Secret-Token, keeps order, and retries a
    failing endpoint until it answers 2xx; getWebhookInfo reports the last error."""
    async with running(ptb_bot(bot)) as client:
        await client.set_webhook(receiver.url, secret_token="s3cret_token-1")
        ids = [bot.send_text(USER, f"/m{n}")["update_id"] for n in range(2)]
        for _ in range(200):
            if len(receiver.received) == 2:
                break
            await asyncio.sleep(0.05)
        info = await client.get_webhook_info()
    assert [update["update_id"] for update, _ in receiver.received] == ids
    assert {secret for _, secret in receiver.received} == {"s3cret_token-1"}
    assert receiver.attempts == 4
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.pending_update_count == 0
