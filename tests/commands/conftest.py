"""A polling daemon with one admin, and helpers to talk to it as a user would."""

from __future__ import annotations

from typing import Any

import pytest

from daemon.emulator.client import BotControl
from tests.support.processes import DaemonProcess, Launch, wait_until

ADMIN, USER = 801, 802
# Tables that bookkeeping writes on every update (offset, counters, replies, uptime); an
# authorization refusal may touch these and nothing else.
BOOKKEEPING = {
    "processed_update",
    "key_value",
    "outbox_message",
    "event",
    "hourly_stat",
    "uptime_minute",
}


@pytest.fixture
def daemon(bot: BotControl, launch: Launch) -> DaemonProcess:
    bot.set_flood(enabled=False)
    return launch(admin_ids=str(ADMIN))


def ask(bot: BotControl, user: int, text: str, chat_id: int | None = None) -> str:
    """Send `text` as `user`; the text of the bot's next message in that chat."""
    return ask_full(bot, user, text, chat_id)["text"]


def ask_full(bot: BotControl, user: int, text: str, chat_id: int | None = None) -> dict[str, Any]:
    chat = chat_id if chat_id is not None else user
    before = len(bot.sent(chat_id=chat))
    bot.send_text(from_user=user, text=text, chat_id=chat_id)
    return bot.wait_for_sent(chat_id=chat, count=before + 1)[before]


def button_data(message: dict[str, Any]) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row]


def press(
    bot: BotControl,
    user: int,
    message: dict[str, Any],
    data: str,
    forge: bool = False,
) -> str | None:
    """Press a button as `user`; the answer's text once the bot answered the query."""
    pressed = bot.press(
        from_user=user,
        message_id=message["message_id"],
        data=data,
        chat_id=message["chat"]["id"],
        forge=forge,
    )
    query_id = pressed["callback_query_id"]
    wait_until(lambda: bot.callback_answer(query_id)["answered"], 10, "the button answered")
    return bot.callback_answer(query_id)["answer"]["text"]


def table_contents(daemon: DaemonProcess) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every state table (bookkeeping excluded), to compare before/after."""
    tables = [
        name
        for (name,) in daemon.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        if name not in BOOKKEEPING and not str(name).startswith("sqlite_")
    ]
    return {t: sorted(daemon.query(f'SELECT * FROM "{t}"'), key=repr) for t in tables}
