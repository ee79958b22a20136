"""429 flood control over HTTP, as python-telegram-bot meets it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from telegram.error import RetryAfter

from daemon.emulator.client import BotControl
from tests.emulator.ptb import ptb_bot, running, seconds

USER = 503


async def test_a_burst_to_one_chat_gets_429_with_retry_after(bot: BotControl) -> None:
    """After the short burst, Telegram's 429 carries retry_after and Retry-After; a client
    that waits that long gets through."""
    bot.send_text(USER, "/start")
    async with running(ptb_bot(bot)) as client:
        for n in range(3):
            await client.send_message(USER, f"burst {n}")
        with pytest.raises(RetryAfter) as refused:
            await client.send_message(USER, "one too many")
        wait = seconds(refused.value.retry_after)
        assert wait >= 1
        async with httpx.AsyncClient() as raw:
            response = await raw.post(
                f"{bot.api_root}/bot{bot.token}/sendMessage", json={"chat_id": USER, "text": "raw"}
            )
        assert response.status_code == 429
        assert response.headers["Retry-After"] == str(response.json()["parameters"]["retry_after"])
        assert response.json()["description"].startswith("Too Many Requests: retry after ")
        await asyncio.sleep(wait)
        await client.send_message(USER, "after waiting")
    assert bot.counters()["flood"] == 2


async def test_a_group_gets_20_messages_a_minute(bot: BotControl) -> None:
    group = bot.create_group("traders")["id"]
    async with running(ptb_bot(bot)) as client:
        for n in range(20):
            await client.send_message(group, f"g{n}")
        with pytest.raises(RetryAfter) as refused:
            await client.send_message(group, "21st")
    assert seconds(refused.value.retry_after) == 3


async def burst(bot: BotControl) -> int:
    """60 private chats and one group, 80 messages at once; returns the 429s counted.
    (The same burst through the daemon's paced sender meets none: tests/notify.)"""
    users = [bot.create_user()["id"] for _ in range(60)]
    for user in users:
        bot.send_text(user, "/subscribe")
    group = bot.create_group("alerts")["id"]
    async with running(ptb_bot(bot, "bursting")) as client:
        sends = [client.send_message(user, "price alert") for user in users]
        sends += [client.send_message(group, f"group alert {n}") for n in range(20)]
        results = await asyncio.gather(*sends, return_exceptions=True)
    failures = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(f, RetryAfter) for f in failures), failures
    return bot.counters()["flood"]


async def test_an_unpaced_burst_is_refused(emulator: object, bot: BotControl) -> None:
    """80 messages at once break the 30/s and 20/min-per-group limits: 429s."""
    assert await burst(bot) > 0


async def test_flood_control_can_be_switched_off(bot: BotControl) -> None:
    bot.set_flood(enabled=False)
    bot.send_text(USER, "/start")
    async with running(ptb_bot(bot)) as client:
        for n in range(10):
            await client.send_message(USER, f"m{n}")
    assert bot.counters()["flood"] == 0
    assert len(bot.sent(USER)) == 10


def test_bad_flood_settings_are_refused_and_change_nothing(bot: BotControl) -> None:
    from daemon.emulator.client import ControlApiError

    before = bot.summary()["flood"]
    with pytest.raises(ControlApiError, match="unknown flood setting 'rate'"):
        bot.set_flood(rate=5)
    assert bot.summary()["flood"] == before
