"""python-telegram-bot clients for the emulator, told apart by their User-Agent."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import Bot
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from daemon.emulator.client import BotControl


def named_request(user_agent: str, **kwargs: Any) -> HTTPXRequest:
    request_class = type("NamedRequest", (HTTPXRequest,), {"USER_AGENT": user_agent})
    return request_class(**kwargs)


def ptb_bot(control: BotControl, user_agent: str = "ptb-test") -> Bot:
    """A python-telegram-bot client of the emulated bot, its requests named `user_agent`."""
    return ExtBot(
        control.token,
        base_url=control.base_url,
        request=named_request(user_agent, connection_pool_size=64),
        get_updates_request=named_request(user_agent),
    )


@asynccontextmanager
async def running(bot: Bot) -> AsyncIterator[Bot]:
    async with bot:  # initialize() calls getMe, shutdown() closes the pools
        yield bot


def seconds(value: int | dtm.timedelta) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB settings."""
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)
