"""Admin /broadcast: a confirmation button with the recipient count, sent exactly once."""

from __future__ import annotations

from pathlib import Path

from daemon.emulator.client import BotControl
from tests.commands.conftest import ADMIN, ask, ask_full, button_data, press
from tests.support.commands import CommandHarness, make_harness
from tests.support.processes import FAST_CONFIG, DaemonProcess, Launch

SUBSCRIBERS = (811, 812, 813)


def subscribe_all(bot: BotControl) -> None:
    for chat in SUBSCRIBERS:
        ask(bot, chat, "/subscribe")


def test_broadcast_asks_first_then_reaches_every_subscriber_once(
    bot: BotControl, daemon: DaemonProcess
) -> None:
    subscribe_all(bot)
    confirm = ask_full(bot, ADMIN, "/broadcast Markets open <early> today")
    assert confirm["text"] == "Broadcast #1 to 3 subscribers?\nMarkets open <early> today"
    send, cancel = button_data(confirm)
    assert [b["text"] for b in confirm["reply_markup"]["inline_keyboard"][0]] == [
        "Send to 3",
        "Cancel",
    ]
    assert press(bot, ADMIN, confirm, send) == "Sending to 3"
    for chat in SUBSCRIBERS:
        texts = [m["text"] for m in bot.wait_for_sent(chat_id=chat, count=2)]
        assert texts[-1] == "Markets open <early> today"
    edited = bot.wait_for_sent(
        chat_id=ADMIN, where=lambda m: m["message_id"] == confirm["message_id"]
    )[0]
    assert edited["text"].startswith("Broadcast #1 sent to 3 subscribers.")
    # A client that has not seen the edit yet still shows the old buttons: press again.
    assert press(bot, ADMIN, confirm, send, forge=True) == "Broadcast #1 was sent already."
    assert press(bot, ADMIN, confirm, cancel, forge=True) == "Broadcast #1 was sent already."
    for chat in SUBSCRIBERS:
        assert len(bot.sent(chat_id=chat)) == 2  # the /subscribe reply and one broadcast
    assert daemon.query("SELECT state, recipients FROM broadcast") == [("sent", 3)]


async def subscribed_harness(tmp_path: Path) -> CommandHarness:
    harness = make_harness(tmp_path, admin_ids=str(ADMIN))
    for chat in SUBSCRIBERS:
        await harness.run("/subscribe", chat)
    return harness


async def test_cancel_sends_nothing_and_a_settled_broadcast_stays_settled(
    tmp_path: Path,
) -> None:
    harness = await subscribed_harness(tmp_path)
    confirm = await harness.run("/broadcast never mind", ADMIN)
    assert [(b.label, b.action, b.arg) for b in confirm.buttons] == [
        ("Send to 3", "bcast.send", "1"),
        ("Cancel", "bcast.cancel", "1"),
    ]
    cancelled = await harness.press("bcast.cancel", "1", ADMIN)
    assert cancelled.notice == "Cancelled"
    assert cancelled.reply is not None
    assert cancelled.reply.title == "Broadcast #1 cancelled."
    assert (await harness.press("bcast.send", "1", ADMIN)).notice == (
        "Broadcast #1 was cancelled already."
    )
    assert harness.query("SELECT state, recipients FROM broadcast") == [("cancelled", 0)]
    assert harness.query("SELECT count(*) FROM outbox_message WHERE priority = 3") == [(0,)]


async def test_sending_queues_one_bulk_message_per_subscriber_once(tmp_path: Path) -> None:
    harness = await subscribed_harness(tmp_path)
    await harness.run("/broadcast hello all", ADMIN)
    assert (await harness.press("bcast.send", "1", ADMIN)).notice == "Sending to 3"
    assert (await harness.press("bcast.send", "1", ADMIN)).notice == (
        "Broadcast #1 was sent already."
    )
    queued = harness.query(
        "SELECT chat_id, text, priority FROM outbox_message WHERE text = 'hello all'"
    )
    assert sorted(queued) == [(chat, "hello all", 3) for chat in SUBSCRIBERS]


async def test_bad_broadcasts_and_presses_are_refused_without_a_record(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, admin_ids=str(ADMIN))
    reply = await harness.run("/broadcast", ADMIN)
    assert harness.text(reply) == "Usage: /broadcast TEXT"
    reply = await harness.run("/broadcast hello", ADMIN)
    assert harness.text(reply) == "No chat is subscribed: nothing to send."
    for chat in SUBSCRIBERS:
        await harness.run("/subscribe", chat)
    reply = await harness.run("/broadcast " + "x" * 3501, ADMIN)
    assert harness.text(reply) == "A broadcast is at most 3500 characters, got 3501."
    assert (await harness.press("bcast.send", "99", ADMIN)).notice == "No such broadcast."
    assert (await harness.press("bcast.send", "1e3", ADMIN)).notice == "No such broadcast."
    assert harness.query("SELECT count(*) FROM broadcast") == [(0,)]


def test_a_long_escaped_reply_is_split_with_the_buttons_on_the_last_part(
    bot: BotControl, daemon: DaemonProcess
) -> None:
    """1020 "<" become 4080 characters of HTML; with the title line that passes 4096,
    so the reply is cut at the line end into two messages."""
    subscribe_all(bot)
    bot.send_text(from_user=ADMIN, text="/broadcast " + "<" * 1020)
    first, second = bot.wait_for_sent(chat_id=ADMIN, count=2)
    assert first["text"] == "Broadcast #1 to 3 subscribers?"
    assert "reply_markup" not in first
    assert second["text"] == "<" * 1020
    assert len(button_data(second)) == 2


def test_a_broadcast_to_many_stays_within_telegrams_limits(bot: BotControl, launch: Launch) -> None:
    """Flood control on (as on Telegram) and the queue's default pacing: 40 subscribers
    get the broadcast, and the emulator answered no request with 429."""
    daemon = launch(admin_ids=str(ADMIN), config=FAST_CONFIG.partition("[notify]")[0])
    chats = range(900, 940)
    for chat in chats:
        bot.send_text(from_user=chat, text="/subscribe")
    for chat in chats:
        bot.wait_for_sent(chat_id=chat, timeout=20)
    confirm = ask_full(bot, ADMIN, "/broadcast paced")
    assert press(bot, ADMIN, confirm, button_data(confirm)[0]) == "Sending to 40"
    for chat in chats:
        bot.wait_for_sent(chat_id=chat, count=2, timeout=20)
    assert bot.counters()["flood"] == 0
    assert daemon.query("SELECT state, recipients FROM broadcast") == [("sent", 40)]
