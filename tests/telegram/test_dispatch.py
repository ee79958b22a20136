"""Dispatch in-process (real PTB Application, real SQLite, the emulator for getMe):
a command that refuses its input leaves nothing behind."""

from __future__ import annotations

import time
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
from daemon.telegram import dispatch
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
