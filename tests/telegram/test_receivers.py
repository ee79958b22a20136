"""Permanent failures mark the receiver: a user who blocked the bot leaves the broadcast
list and is not retried, whether Telegram says so with my_chat_member or with a 403."""

from __future__ import annotations

import pytest

from daemon.emulator.client import BotControl
from tests.commands.conftest import ADMIN, ask, ask_full, button_data, press
from tests.support.processes import DaemonProcess, Launch

FAN, QUIET = 821, 822


@pytest.fixture
def daemon(bot: BotControl, launch: Launch) -> DaemonProcess:
    bot.set_flood(enabled=False)
    return launch(admin_ids=str(ADMIN))


def test_my_chat_member_blocked_unsubscribes_and_unblocked_is_noted(
    bot: BotControl, daemon: DaemonProcess
) -> None:
    ask(bot, FAN, "/subscribe")
    bot.block(FAN)
    daemon.wait_for_log(f"chat {FAN} blocked the bot: unsubscribed")
    assert daemon.query("SELECT chat_id FROM subscriber") == []
    bot.block(FAN, blocked=False)
    daemon.wait_for_log(rf"chat {FAN} can reach the bot again \(member\)")
    assert daemon.query("SELECT chat_id FROM subscriber") == []  # /subscribe again to return


def test_a_403_on_send_unsubscribes_and_drops_what_was_queued_for_that_chat(
    bot: BotControl, daemon: DaemonProcess
) -> None:
    """Blocked without a my_chat_member update (it may come late or not at all): the
    broadcast's 403 marks the chat; the next broadcast no longer counts it."""
    for chat in (FAN, QUIET):
        ask(bot, chat, "/subscribe")
    bot.block(FAN, notify=False)
    confirm = ask_full(bot, ADMIN, "/broadcast first")
    assert press(bot, ADMIN, confirm, button_data(confirm)[0]) == "Sending to 2"
    assert bot.wait_for_sent(chat_id=QUIET, count=2)[-1]["text"] == "first"
    daemon.wait_for_log(
        f"chat {FAN} cannot be reached \\(Forbidden: bot was blocked by the user\\): "
        "forgotten, 1 queued items dropped"
    )
    assert daemon.query("SELECT chat_id FROM subscriber") == [(QUIET,)]
    assert daemon.query("SELECT chat_id, dead FROM outbox_message") == [(FAN, 1)]
    again = ask_full(bot, ADMIN, "/broadcast second")
    assert again["text"].startswith("Broadcast #2 to 1 subscribers?")
    assert bot.counters()["requests"].get("sendMessage", 0) > 0
