"""Exactly-once: effects, replies and the offset commit together, or not at all."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import peewee
import pytest
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes

from daemon.config import PollingSettings
from daemon.emulator.client import BotControl
from daemon.store import chats, progress, schema
from daemon.store.database import DAEMON_BUSY_TIMEOUT, Store, StoreUnavailable, open_database
from daemon.store.models import KnownChat, OutboxMessage
from daemon.telegram.processor import UpdateProcessor
from daemon.vitals import Vitals
from tests.support.processes import DaemonProcess, Launch

NOW = datetime(2026, 11, 28, 12, 0, 0)


def command_update(update_id: int, text: str, user_id: int = 10) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "U"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


def open_store(url: str) -> Store:
    db = open_database(url, busy_timeout=DAEMON_BUSY_TIMEOUT)  # as the daemon opens it
    schema.upgrade(db)
    return Store(db)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """On SQLite and on PostgreSQL."""
    opened = open_store(database_url)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """SQLite only: for its file locking (BEGIN IMMEDIATE, SQLITE_BUSY)."""
    opened = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield opened
    opened.close()


async def make_processor(
    store: Store, bot: BotControl
) -> tuple[Application, UpdateProcessor, Vitals]:
    app = ApplicationBuilder().token(bot.token).base_url(bot.base_url).updater(None).build()
    await app.initialize()  # getMe, against the emulator

    async def count(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chats.record_start(update.effective_chat.id, "private", "U", NOW)

    async def explode(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chats.record_start(update.effective_chat.id, "private", "U", NOW)
        raise RuntimeError("handler bug after a write")

    app.add_handler(CommandHandler("count", count))
    app.add_handler(CommandHandler("explode", explode))
    vitals = Vitals.starting("test", True, 0.0, PollingSettings())
    committed: list[int] = []
    processor = UpdateProcessor(
        app=app,
        store=store,
        vitals=vitals,
        utcnow=lambda: NOW,
        on_committed=lambda: committed.append(1),
    )
    return app, processor, vitals


async def test_a_failing_handler_rolls_back_its_writes_and_the_update_is_not_retried(
    store: Store, bot: BotControl
) -> None:
    """Handler raises after writing: nothing it wrote stays; an apology with an error id
    is queued; the update counts as processed so it cannot wedge the loop."""
    app, processor, vitals = await make_processor(store, bot)
    await processor.process(Update.de_json(command_update(5, "/explode"), app.bot))
    assert KnownChat.select().count() == 0
    apology = OutboxMessage.get()
    assert apology.chat_id == 10
    assert apology.text.startswith("Something went wrong (error id ")
    assert progress.stored_offset() == 6
    assert vitals.offset == 6


async def test_an_update_delivered_twice_applies_once(store: Store, bot: BotControl) -> None:
    """A replayed update id (webhook retry, duplicate delivery) changes nothing the second time."""
    app, processor, _ = await make_processor(store, bot)
    for _ in range(2):
        await processor.process(Update.de_json(command_update(7, "/count"), app.bot))
    assert KnownChat.get_by_id(10).starts == 1
    assert progress.stored_offset() == 8


async def test_a_batch_commits_once_and_a_failing_update_rolls_back_alone(
    store: Store, bot: BotControl
) -> None:
    """One getUpdates answer, one transaction: the exploding update in the middle loses
    its own writes (and gets its apology), its neighbours and the duplicate are fine, and
    the commit callback runs once for the batch."""
    app, processor, vitals = await make_processor(store, bot)
    committed: list[int] = []
    processor._on_committed = lambda: committed.append(1)
    batch = [
        Update.de_json(command_update(20, "/count", user_id=1), app.bot),
        Update.de_json(command_update(21, "/explode", user_id=2), app.bot),
        Update.de_json(command_update(22, "/count", user_id=3), app.bot),
        Update.de_json(command_update(20, "/count", user_id=1), app.bot),  # again
    ]
    result = await processor.process_batch(batch)
    assert (result.applied, result.duplicates) == (3, 1)
    assert sorted(chat.chat_id for chat in KnownChat.select()) == [1, 3]
    assert [m.chat_id for m in OutboxMessage.select()] == [2]  # the apology
    assert committed == [1]
    assert progress.stored_offset() == 21  # follows the ids as returned: the last is 20
    assert vitals.updates_handled == 3


async def test_a_transient_error_mid_batch_replays_the_whole_batch_once(
    sqlite_store: Store, bot: BotControl
) -> None:
    """A 'database is locked' raised by the third update's handler rolls the batch back;
    the retry applies every update exactly once."""
    app, processor, _ = await make_processor(sqlite_store, bot)
    failures = [peewee.OperationalError("database is locked")]

    async def flaky(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chats.record_start(update.effective_chat.id, "private", "U", NOW)
        if failures:
            raise failures.pop()

    app.add_handler(CommandHandler("flaky", flaky))
    batch = [
        Update.de_json(command_update(30, "/count", user_id=1), app.bot),
        Update.de_json(command_update(31, "/count", user_id=2), app.bot),
        Update.de_json(command_update(32, "/flaky", user_id=3), app.bot),
    ]
    result = await processor.process_batch(batch)
    assert result.applied == 3
    assert {chat.chat_id: chat.starts for chat in KnownChat.select()} == {1: 1, 2: 1, 3: 1}


def stored_offset(daemon: DaemonProcess) -> int:
    try:
        rows = daemon.query("SELECT value FROM key_value WHERE key = 'poll.offset'")
    except sqlite3.OperationalError:  # the schema is not created yet
        return 0
    return int(rows[0][0]) if rows else 0


def test_kill9_at_random_points_loses_no_command_and_applies_none_twice(
    tmp_path: Path, bot: BotControl, launch: Launch
) -> None:
    """Over many runs killed with SIGKILL mid-stream, every /start counts exactly once
    and gets at least one reply."""
    bot.set_flood(enabled=False)
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    users = [900 + i for i in range(6)]
    expected: Counter[int] = Counter()
    interrupted = 0
    state = tmp_path / "state"
    for run in range(10):
        # Queue a burst while no daemon runs, so the kill below lands while it drains.
        sent = []
        for _ in range(400):
            user = rng.choice(users)
            sent.append(bot.send_text(from_user=user, text="/start")["update_id"])
            expected[user] += 1
        daemon = launch(name=f"run{run}", state_directory=state, polling_started=False)
        # A random point in the first 70 % of the stream: kill as soon as the stored
        # offset passes it (polled tightly: the daemon drains ~1000 updates/s).
        target = rng.randrange(min(sent), min(sent) + len(sent) * 7 // 10)
        deadline = time.monotonic() + 30
        while stored_offset(daemon) < target:
            assert time.monotonic() < deadline, f"offset {target} not reached"
            time.sleep(0.001)
        daemon.kill9()
        offset = stored_offset(daemon)
        if min(sent) < offset <= max(sent):
            interrupted += 1
    final = launch(name="final", state_directory=state)
    total = sum(expected.values())
    last_update = total + 0  # update ids start at 1 for a fresh bot
    final.wait_for_log(rf"\[hb\] alive offset={last_update + 1} ", timeout=30)
    starts = dict(final.query("SELECT chat_id, starts FROM known_chat"))
    assert starts == dict(expected), f"seed {seed}"
    assert final.query("SELECT sum(runs) FROM command_count WHERE command='start'") == [(total,)]
    assert interrupted >= 8, f"only {interrupted} of 10 kills landed mid-stream (seed {seed})"
    for user, count in expected.items():
        assert len(bot.wait_for_sent(chat_id=user, count=count, timeout=30)) >= count


# --- the exactly-once holes (issue 10) ----------------------------------------------------


async def test_an_update_id_below_the_offset_is_applied_when_not_recorded(
    store: Store, bot: BotControl
) -> None:
    """Telegram restarts ids (randomly, possibly lower) after a week without updates: an
    id below the offset is new unless recorded, and the offset follows the new ids."""
    app, processor, vitals = await make_processor(store, bot)
    await processor.process(Update.de_json(command_update(12, "/count"), app.bot))
    assert progress.stored_offset() == 13
    assert await processor.process(Update.de_json(command_update(5, "/count", user_id=11), app.bot))
    assert KnownChat.get_by_id(11).starts == 1
    assert progress.stored_offset() == 6
    assert vitals.offset == 6


async def test_webhook_deliveries_out_of_order_are_all_applied(
    store: Store, bot: BotControl
) -> None:
    """N+1 delivered before N: both apply; the (informational) offset keeps the highest."""
    app, processor, vitals = await make_processor(store, bot)
    vitals.polling_enabled = False  # webhook mode
    await processor.process(Update.de_json(command_update(11, "/count", user_id=21), app.bot))
    await processor.process(Update.de_json(command_update(10, "/count", user_id=20), app.bot))
    assert {c.chat_id: c.starts for c in KnownChat.select()} == {20: 1, 21: 1}
    assert progress.stored_offset() == 12


async def test_the_same_update_delivered_twice_at_once_applies_once(
    store: Store, bot: BotControl
) -> None:
    """Two concurrent deliveries of one update, with a handler that awaits between its
    read and its write: the duplicate check happens inside the transaction."""
    app, processor, _ = await make_processor(store, bot)

    async def slow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        known = KnownChat.get_or_none(KnownChat.chat_id == 10)
        await asyncio.sleep(0.05)
        if known is None:
            chats.record_start(10, "private", "U", NOW)
        else:
            KnownChat.update(starts=known.starts + 1).where(KnownChat.chat_id == 10).execute()

    app.add_handler(CommandHandler("slow", slow))
    update = command_update(30, "/slow")
    results = await asyncio.gather(
        processor.process(Update.de_json(update, app.bot)),
        processor.process(Update.de_json(update, app.bot)),
    )
    assert sorted(results) == [False, True]
    assert KnownChat.get_by_id(10).starts == 1


async def test_a_write_after_another_connection_committed_is_not_lost(
    tmp_path: Path, sqlite_store: Store, bot: BotControl
) -> None:
    """A handler reads, another connection (the digest run) commits, the handler writes:
    the transaction took the write lock at BEGIN (IMMEDIATE), so the other writer waits
    and the handler's effect commits; it is never marked done with its effect lost."""
    app, processor, _ = await make_processor(sqlite_store, bot)
    other_committed: list[bool] = []

    def other_writer() -> None:
        with contextlib.closing(sqlite3.connect(tmp_path / "db.sqlite", timeout=0.3)) as other:
            try:
                other.execute("INSERT INTO key_value (key, value) VALUES ('digest', 'x')")
                other.commit()
                other_committed.append(True)
            except sqlite3.OperationalError:
                other_committed.append(False)

    async def read_then_write(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        KnownChat.select().count()
        await asyncio.to_thread(other_writer)
        chats.record_start(10, "private", "U", NOW)

    app.add_handler(CommandHandler("rw", read_then_write))
    assert await processor.process(Update.de_json(command_update(40, "/rw"), app.bot))
    assert KnownChat.get_by_id(10).starts == 1
    assert OutboxMessage.select().where(OutboxMessage.text.contains("went wrong")).count() == 0
    assert other_committed == [False]  # it had to wait for our commit


async def test_a_locked_database_is_waited_for_then_applied(
    tmp_path: Path, sqlite_store: Store, bot: BotControl
) -> None:
    """Another process holds the write lock for a while: the update is retried with
    back-off and applied once the lock is free."""
    app, processor, _ = await make_processor(sqlite_store, bot)
    holder = sqlite3.connect(tmp_path / "db.sqlite", check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.8, holder.commit)
    release.start()
    try:
        assert await processor.process(Update.de_json(command_update(50, "/count"), app.bot))
    finally:
        release.join()
        holder.close()
    assert KnownChat.get_by_id(10).starts == 1
    assert progress.stored_offset() == 51


async def test_a_database_locked_through_every_retry_records_nothing(
    tmp_path: Path, sqlite_store: Store, bot: BotControl
) -> None:
    """Still locked after the last retry: StoreUnavailable, nothing recorded (the update
    stays unconfirmed); once the lock is gone the same update applies once."""
    app, processor, vitals = await make_processor(sqlite_store, bot)
    await processor.process(Update.de_json(command_update(59, "/count", user_id=12), app.bot))
    holder = sqlite3.connect(tmp_path / "db.sqlite")
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreUnavailable):
        await processor.process(Update.de_json(command_update(60, "/count"), app.bot))
    holder.rollback()
    holder.close()
    assert KnownChat.get_or_none(KnownChat.chat_id == 10) is None
    assert progress.stored_offset() == 60
    assert vitals.offset == 60
    assert await processor.process(Update.de_json(command_update(60, "/count"), app.bot))
    assert KnownChat.get_by_id(10).starts == 1


def test_restarted_update_ids_are_answered_end_to_end(bot: BotControl, launch: Launch) -> None:
    """The emulator starts ids afresh below the daemon's offset (as Telegram does after a
    week idle): the daemon answers them, before and after a restart, without a tight
    getUpdates loop."""
    bot.set_flood(enabled=False)
    bot.restart_update_ids(100)
    daemon = launch(admin_ids="42")
    bot.send_text(from_user=42, text="/start")
    bot.wait_for_sent(chat_id=42, count=1)
    daemon.wait_for_log(r"\[hb\] alive offset=101 ")
    bot.restart_update_ids(5)
    bot.reset_counters()
    bot.send_text(from_user=43, text="/start")
    assert bot.wait_for_sent(chat_id=43, count=1)[0]["text"].startswith("Hello")
    daemon.wait_for_log(r"\[hb\] alive offset=6 ")
    assert bot.counters()["requests"]["getUpdates"] < 20
    daemon.stop()
    again = launch(name="again", admin_ids="42")
    bot.send_text(from_user=44, text="/start")
    assert bot.wait_for_sent(chat_id=44, count=1)[0]["text"].startswith("Hello")
    assert again.query("SELECT chat_id, starts FROM known_chat ORDER BY chat_id") == [
        (42, 1),
        (43, 1),
        (44, 1),
    ]


def test_a_database_locked_for_long_delays_the_update_but_never_drops_it(
    bot: BotControl, launch: Launch
) -> None:
    """Another process holds the daemon's write lock longer than every retry: the update
    is not marked done, the poller fetches it again, and once the lock is free it is
    applied and answered exactly once."""
    bot.set_flood(enabled=False)
    daemon = launch(admin_ids="42")
    database = daemon.state_directory / "tradebotd.db"
    holder = sqlite3.connect(database, timeout=10)
    holder.execute("BEGIN IMMEDIATE")
    try:
        bot.send_text(from_user=51, text="/start")
        daemon.wait_for_log(
            r"updates \d+–\d+ not processed: database unavailable after retries", 30
        )
    finally:
        holder.rollback()
        holder.close()
    assert bot.wait_for_sent(chat_id=51, count=1)[0]["text"].startswith("Hello")
    daemon.wait_for_log(r"\[hb\] alive offset=2 ")
    assert daemon.query("SELECT starts FROM known_chat WHERE chat_id = 51") == [(1,)]
    time.sleep(1)
    assert len(bot.sent(chat_id=51)) == 1
