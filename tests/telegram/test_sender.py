"""The outbox sender against the emulator: order, RetryAfter, dead letters, 5xx retries."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from telegram.ext import ExtBot

from daemon.config import PollingSettings
from daemon.emulator.client import BotControl
from daemon.store import outbox, schema
from daemon.store.database import Store, open_database
from daemon.store.models import OutboxMessage
from daemon.telegram.sender import OutboxSender
from daemon.vitals import Vitals
from tests.support.processes import wait_until

NOW = datetime(2026, 11, 28, 12, 0)
USER = 901


@pytest.fixture
def store(tmp_path: Path) -> Store:
    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    schema.upgrade(db)
    return Store(db)


async def drain(bot: BotControl, store: Store, texts: list[tuple[int, str]]) -> Vitals:
    """Queue `texts`, run a real sender until the outbox has nothing left to try."""
    vitals = Vitals.starting("test", True, 0.0, PollingSettings())
    async with store.transaction():
        for chat_id, text in texts:
            outbox.enqueue(chat_id, text, NOW)
    ext_bot = ExtBot(bot.token, base_url=bot.base_url)
    async with ext_bot:
        sender = OutboxSender(bot=ext_bot, store=store, vitals=vitals, jitter=lambda: 0.0)
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        await asyncio.to_thread(wait_until, lambda: outbox.backlog() == 0, 20, "outbox drained")
        stop.set()
        await asyncio.wait_for(task, 5)
    return vitals


def known_user(bot: BotControl) -> None:
    bot.send_text(from_user=USER, text="hi")  # a bot may only write to chats it knows


async def test_messages_go_out_in_order_and_leave_the_outbox(bot: BotControl, store: Store) -> None:
    known_user(bot)
    vitals = await drain(bot, store, [(USER, f"message {n}") for n in range(5)])
    assert [m["text"] for m in bot.sent(chat_id=USER)] == [f"message {n}" for n in range(5)]
    assert OutboxMessage.select().count() == 0
    assert vitals.replies_sent == 5


async def test_a_refused_message_becomes_a_dead_letter_and_the_queue_moves_on(
    bot: BotControl, store: Store
) -> None:
    known_user(bot)
    await drain(bot, store, [(USER, "first"), (999999, "nobody"), (USER, "third")])
    assert [m["text"] for m in bot.sent(chat_id=USER)] == ["first", "third"]
    dead = OutboxMessage.get(OutboxMessage.dead == True)  # noqa: E712
    assert (dead.chat_id, dead.last_error) == (999999, "Chat not found")


async def test_flood_control_is_waited_out_not_dropped(bot: BotControl, store: Store) -> None:
    known_user(bot)
    bot.set_flood(chat_per_second=1, chat_burst=1, grace_seconds=0)
    await drain(bot, store, [(USER, f"burst {n}") for n in range(3)])
    assert [m["text"] for m in bot.sent(chat_id=USER)] == [f"burst {n}" for n in range(3)]
    assert bot.counters()["flood"] >= 1


async def test_server_errors_are_retried_with_back_off(bot: BotControl, store: Store) -> None:
    known_user(bot)
    bot.add_fault("status", method="sendMessage", times=2, status=502)
    await drain(bot, store, [(USER, "eventually")])
    assert [m["text"] for m in bot.sent(chat_id=USER)] == ["eventually"]
    assert bot.counters()["status"]["502"] == 2
