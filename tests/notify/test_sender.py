"""The notification sender against the Bot API emulator: order within a chat, dead
letters, retries that hold only their own chat, 429s for one chat or for the whole bot,
priorities, and a second transport plugged in by receiver kind. On both backends."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from telegram.ext import ExtBot

from daemon.emulator.client import BotControl
from daemon.notify.sender import NotificationSender
from daemon.notify.telegram import TelegramTransport
from daemon.notify.transport import ReceiverGone, Temporary, Transport
from daemon.policy.pacing import PacingLimits
from daemon.policy.retry import RetryPolicy
from daemon.store import outbox, schema
from daemon.store.database import Store, execute, open_database
from daemon.store.outbox import Priority, QueuedCall, Receiver

UNPACED = PacingLimits(1000, 100, 100, 6000)
QUICK_RETRY = RetryPolicy(initial=1.0, maximum=1.0, max_age=3600)
A, B, C = 901, 902, 903


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """On SQLite and on PostgreSQL: the queue must not drift between them."""
    db = open_database(database_url)
    schema.upgrade(db)
    opened = Store(db)
    yield opened
    opened.close()


@pytest.fixture
def bot(bot: BotControl) -> BotControl:
    for user in (A, B, C):
        bot.send_text(from_user=user, text="hi")  # a bot may only write to chats it knows
    return bot


@asynccontextmanager
async def running(
    bot: BotControl,
    store: Store,
    limits: PacingLimits = UNPACED,
    retry: RetryPolicy = QUICK_RETRY,
    extra: tuple[Transport, ...] = (),
) -> AsyncIterator[NotificationSender]:
    async with ExtBot(bot.token, base_url=bot.base_url) as ext_bot:
        sender = NotificationSender(
            store=store,
            transports=[TelegramTransport(ext_bot, lambda: limits), *extra],
            retry=lambda: retry,
            utcnow=utcnow,
            jitter=lambda: 0.5,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        try:
            yield sender
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)


async def put(
    store: Store,
    sender: NotificationSender | None,
    *items: tuple[int | Receiver, str],
    priority: Priority = Priority.REPLY,
    queued: datetime | None = None,
) -> None:
    async with store.transaction():
        for to, text in items:
            receiver = to if isinstance(to, Receiver) else Receiver.chat(to)
            outbox.enqueue(receiver, text, queued or utcnow(), priority=priority)
    if sender is not None:
        sender.wake()


async def until(condition: Callable[[], object], what: str, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within}s: {what}"
        await asyncio.sleep(0.02)


def texts(bot: BotControl, chat_id: int | None = None) -> list[str]:
    return [m.get("text", "") for m in bot.sent(chat_id=chat_id)]


async def test_order_within_a_chat_holds_and_delivered_items_leave_the_queue(
    bot: BotControl, store: Store
) -> None:
    await put(store, None, *[(A, f"message {n}") for n in range(5)])
    async with running(bot, store) as sender:
        await until(lambda: outbox.backlog() == 0, "queue drained")
    assert texts(bot, A) == [f"message {n}" for n in range(5)]
    assert sender.counters.delivered == 5


async def test_a_refused_item_is_a_dead_letter_and_its_chat_moves_on(
    bot: BotControl, store: Store
) -> None:
    await put(store, None, (A, "first"), (999999, "nobody"), (A, "third"))
    async with running(bot, store):
        await until(lambda: outbox.backlog() == 0, "queue drained")
    assert texts(bot, A) == ["first", "third"]
    assert outbox.dead_letter_summary().count == 1
    # Recorded for alert routing, in the dead letter's own transaction.
    [(detail,)] = execute("SELECT detail FROM event WHERE kind = 'dead_letter'").fetchall()
    assert json.loads(detail)["receiver"] == "chat 999999"


async def test_a_temporary_failure_holds_its_own_chat_only(bot: BotControl, store: Store) -> None:
    """A 502 for a1: a2 waits behind it (order), b1 goes at once; a1 is retried after
    the back-off and a2 follows it."""
    bot.add_fault("status", method="sendMessage", times=1, status=502)
    async with running(bot, store) as sender:
        await put(store, sender, (A, "a1"))
        await until(lambda: sender.counters.retried == 1, "a1 failed once")
        await put(store, sender, (A, "a2"), (B, "b1"))
        await until(lambda: texts(bot, B) == ["b1"], "b1 delivered")
        assert texts(bot, A) == []
        await until(lambda: outbox.backlog() == 0, "queue drained")
    assert [m["chat"]["id"] for m in bot.sent() if m["chat"]["id"] in (A, B)] == [B, A, A]
    assert texts(bot, A) == ["a1", "a2"]


async def test_failing_past_its_max_age_makes_a_dead_letter_then_the_chat_moves_on(
    bot: BotControl, store: Store
) -> None:
    bot.add_fault("status", method="sendMessage", times=1, status=502)
    retry = RetryPolicy(initial=60.0, maximum=60.0, max_age=3600)
    old = utcnow() - timedelta(seconds=3590)  # the next try would be past its hour
    await put(store, None, (A, "too old"), queued=old)
    await put(store, None, (A, "fresh"))
    async with running(bot, store, retry=retry) as sender:
        await until(lambda: outbox.backlog() == 0, "queue drained")
    assert texts(bot, A) == ["fresh"]
    assert sender.counters.dead == 1
    assert sender.counters.retried == 0


async def test_a_429_for_one_chat_pauses_that_chat_only(bot: BotControl, store: Store) -> None:
    bot.add_fault("flood", method="sendMessage", times=1, retry_after=3)
    async with running(bot, store) as sender:
        await put(store, sender, (A, "a1"))
        await until(lambda: sender.counters.throttled == 1, "a1 throttled")
        await put(store, sender, (B, "b1"))
        await until(lambda: texts(bot, B) == ["b1"], "b1 delivered while a1 waits")
        assert texts(bot, A) == []
        await until(lambda: texts(bot, A) == ["a1"], "a1 delivered after its pause")


async def test_a_429_for_an_edit_waits_its_retry_after_like_a_send(
    bot: BotControl, store: Store
) -> None:
    """Edits and callback answers are not paced (Telegram's limits count sent messages),
    but a 429 for one still pauses its chat: before, the sender retried it at once, and
    the web chat showed hundreds of 429s a second for one refused edit."""
    async with running(bot, store) as sender:
        await put(store, sender, (A, "before"))
        await until(lambda: texts(bot, A) == ["before"], "the message to edit")
        message_id = bot.sent(chat_id=A)[-1]["message_id"]
        bot.add_fault("flood", method="editMessageText", times=-1, retry_after=2)
        async with store.transaction():
            outbox.enqueue(Receiver.chat(A), "after", utcnow(), priority=Priority.REPLY,
                           kind="edit", payload={"message_id": message_id})  # fmt: skip
        sender.wake()
        await until(lambda: sender.counters.throttled >= 1, "the edit throttled")
        await asyncio.sleep(1.0)  # within the 2 s it was told to wait
        assert bot.counters()["requests"].get("editMessageText") == 1
        bot.clear_faults()
        await until(lambda: texts(bot, A) == ["after"], "the edit made after its pause")
    assert sender.counters.throttled == 1


async def test_429s_for_two_chats_at_once_pause_every_send(bot: BotControl, store: Store) -> None:
    """Two chats refused within a second: the bot-wide limit, so a third chat waits too."""
    bot.add_fault("flood", method="sendMessage", times=2, retry_after=3)
    async with running(bot, store) as sender:
        await put(store, sender, (A, "a1"), (B, "b1"))
        await until(lambda: sender.counters.throttled == 2, "both throttled")
        await put(store, sender, (C, "c1"))
        await asyncio.sleep(1.0)
        assert texts(bot, C) == []
        await until(lambda: outbox.backlog() == 0, "all delivered after the pause")
    assert sorted(texts(bot)[-3:]) == ["a1", "b1", "c1"]


async def test_admin_replies_and_alerts_overtake_a_broadcast(bot: BotControl, store: Store) -> None:
    """30 bulk messages queued first, then an alert and an admin's reply; at 5 sends a
    second the urgent two are in the first round."""
    subscribers = range(700, 730)
    for user in subscribers:
        bot.send_text(from_user=user, text="hi")
    await put(store, None, *[(user, "news") for user in subscribers], priority=Priority.BULK)
    await put(store, None, (B, "alert"), priority=Priority.ALERT)
    await put(store, None, (A, "admin reply"), priority=Priority.ADMIN_REPLY)
    async with running(bot, store, limits=PacingLimits(5, 100, 100, 6000)):
        await until(lambda: outbox.backlog() == 0, "queue drained", within=30)
    sent = [t for t in texts(bot) if t != "hi"]
    assert {"admin reply", "alert"} <= set(sent[:5])
    assert sent.count("news") == 30


class Recorder:
    """A second transport, as an Apprise or webhook one would plug in: it keeps what it
    delivers and refuses for good the receiver named "gone"."""

    kind = "recorder"

    def __init__(self) -> None:
        self.delivered: list[tuple[str, str]] = []
        self.forgotten: list[Receiver] = []
        self.failures = 0

    def limits(self) -> PacingLimits:
        return UNPACED

    def paced(self, call: QueuedCall) -> bool:
        return True

    def gone(self, receiver: Receiver) -> None:
        self.forgotten.append(receiver)

    async def deliver(self, call: QueuedCall) -> None:
        if call.receiver.name == "gone":
            raise ReceiverGone("410 Gone")
        if call.receiver.name == "flaky" and self.failures == 0:
            self.failures += 1
            raise Temporary("503 Service Unavailable")
        self.delivered.append((call.receiver.name, call.text))


async def test_another_transport_plugs_in_by_receiver_kind(bot: BotControl, store: Store) -> None:
    recorder = Recorder()
    ops, gone, flaky = (Receiver("recorder", name=n) for n in ("ops", "gone", "flaky"))
    await put(store, None, (ops, "disk full"), (gone, "x"), (gone, "y"), (flaky, "later"))
    await put(store, None, (A, "to telegram"))
    async with running(bot, store, extra=(recorder,)):
        await until(lambda: outbox.backlog() == 0, "queue drained")
    assert sorted(recorder.delivered) == [("flaky", "later"), ("ops", "disk full")]
    assert recorder.forgotten == [gone]
    assert outbox.dead_letter_summary().count == 2
    assert texts(bot, A) == ["to telegram"]


async def test_an_item_for_a_kind_without_transport_is_a_dead_letter(
    bot: BotControl, store: Store
) -> None:
    await put(store, None, (Receiver("pager", name="x"), "lost"), (A, "fine"))
    async with running(bot, store):
        await until(lambda: outbox.backlog() == 0, "queue drained")
    assert outbox.dead_letter_summary().count == 1
    assert texts(bot, A) == ["fine"]


async def test_a_burst_paced_at_telegrams_limits_meets_no_429(
    bot: BotControl, store: Store
) -> None:
    """The burst the emulator refuses unpaced (tests/emulator/test_flood_http.py): 60
    private chats and 20 messages to one group, queued at once; the sender at Telegram's
    documented limits delivers every one without a single 429."""
    users = [bot.create_user()["id"] for _ in range(60)]
    for user in users:
        bot.send_text(user, "/subscribe")
    group = bot.create_group("alerts")["id"]
    await put(store, None, *[(user, "price alert") for user in users], priority=Priority.ALERT)
    await put(store, None, *[(group, f"group alert {n}") for n in range(20)])
    async with running(bot, store, limits=PacingLimits()):
        await until(lambda: outbox.backlog() == 0, "queue drained", within=30)
    assert bot.counters()["flood"] == 0
    assert len(bot.sent(chat_id=group)) == 20
