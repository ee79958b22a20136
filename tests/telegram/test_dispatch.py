"""Dispatch in-process (real PTB Application, real SQLite, the emulator for getMe):
a command that refuses its input leaves nothing behind; admins' replies outrank the
public's; a public user who floods is throttled."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from telegram import Update
from telegram.ext import ApplicationBuilder

from daemon.commands.registry import Command, CommandCall, CommandError, Registry, Role, Services
from daemon.config import load_settings
from daemon.emulator.client import BotControl
from daemon.logs import RingBuffer
from daemon.reply import Reply
from daemon.store import chats, outbox, schema
from daemon.store.database import Store, open_database
from daemon.store.models import CommandCount, KnownChat, OutboxMessage
from daemon.store.outbox import Priority
from daemon.telegram import dispatch
from daemon.telegram.bot import PtbApplication
from daemon.telegram.outgoing import Outgoing
from daemon.vitals import Vitals
from tests.telegram.test_processor import command_update

NOW = datetime(2026, 11, 28, 12, 0)


async def write_then_refuse(call: CommandCall, services: Services) -> Reply:
    chats.record_start(call.chat_id, "private", "U", call.now)
    raise CommandError("Usage: /half TEXT")


async def test_a_refusing_command_rolls_back_what_it_wrote(tmp_path: Path, bot: BotControl) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    schema.upgrade(db)
    store = Store(db)
    registry = Registry()
    registry.add(Command("half", Role.PUBLIC, "TEXT", "writes, then refuses", write_then_refuse))
    settings = load_settings({"TELEGRAM_BOT_TOKEN": bot.token})
    vitals = Vitals.starting("test", True, 0.0, settings.polling)
    services = Services(vitals, lambda: settings, registry, time.monotonic, RingBuffer())
    app = ApplicationBuilder().token(bot.token).base_url(bot.base_url).updater(None).build()
    dispatch.install(app, services, Outgoing(lambda: b"k" * 32, time.time), lambda: NOW)
    await app.initialize()
    try:
        async with store.transaction():
            await app.process_update(Update.de_json(command_update(1, "/half x"), app.bot))
    finally:
        await app.shutdown()
    assert KnownChat.select().count() == 0
    assert CommandCount.select().count() == 0
    assert [m.text for m in OutboxMessage.select()] == ["Usage: /half TEXT"]
    assert outbox.backlog() == 1
    db.close()


async def pong(call: CommandCall, services: Services) -> Reply:
    return Reply(lines=("pong",))


ADMIN, PUBLIC, OTHER = 11, 12, 13


@dataclass
class Dispatching:
    app: PtbApplication
    store: Store
    update_id: int = 0

    async def command(self, user_id: int, text: str) -> None:
        self.update_id += 1
        update = Update.de_json(command_update(self.update_id, text, user_id), self.app.bot)
        async with self.store.transaction():
            await self.app.process_update(update)


def queued(chat_id: int) -> list[tuple[str, int]]:
    """(text, priority) of what is queued for the chat, in order."""
    rows = OutboxMessage.select().where(OutboxMessage.chat_id == chat_id)
    return [(row.text, row.priority) for row in rows.order_by(OutboxMessage.id)]


@asynccontextmanager
async def dispatching(tmp_path: Path, bot: BotControl, config: str) -> AsyncIterator[Dispatching]:
    """A PTB Application wired by dispatch.install with a public /ping, on a fresh
    database, with `config` as the TOML file."""
    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    schema.upgrade(db)
    registry = Registry()
    registry.add(Command("ping", Role.PUBLIC, "", "answers pong", pong))
    (tmp_path / "config.toml").write_text(config)
    environ = {"TELEGRAM_BOT_TOKEN": bot.token, "ADMIN_IDS": str(ADMIN)}
    settings = load_settings({**environ, "TRADEBOTD_CONFIG": str(tmp_path / "config.toml")})
    vitals = Vitals.starting("test", True, 0.0, settings.polling)
    services = Services(vitals, lambda: settings, registry, time.monotonic, RingBuffer())
    app = ApplicationBuilder().token(bot.token).base_url(bot.base_url).updater(None).build()
    dispatch.install(app, services, Outgoing(lambda: b"k" * 32, time.time), lambda: NOW)
    await app.initialize()
    try:
        yield Dispatching(app, Store(db))
    finally:
        await app.shutdown()
        db.close()


LIMIT_3 = "[telegram]\npublic_command_limit = 3\npublic_command_window = 600\n"


async def test_a_public_user_who_floods_gets_one_notice_then_silence(
    tmp_path: Path, bot: BotControl
) -> None:
    async with dispatching(tmp_path, bot, LIMIT_3) as d:
        for _ in range(6):
            await d.command(PUBLIC, "/ping")
        await d.command(PUBLIC, "/nosuchcommand")
        await d.command(OTHER, "/ping")
        assert [text for text, _ in queued(PUBLIC)] == ["pong"] * 3 + [dispatch.SLOW_DOWN.lines[0]]
        assert [text for text, _ in queued(OTHER)] == ["pong"]


async def test_admins_are_never_throttled_and_their_replies_go_first(
    tmp_path: Path, bot: BotControl
) -> None:
    async with dispatching(tmp_path, bot, LIMIT_3) as d:
        for _ in range(6):
            await d.command(ADMIN, "/ping")
        await d.command(PUBLIC, "/ping")
        assert queued(ADMIN) == [("pong", Priority.ADMIN_REPLY)] * 6
        assert queued(PUBLIC) == [("pong", Priority.REPLY)]
