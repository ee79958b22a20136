"""The control API: bad requests are refused with a reason and change nothing."""

from __future__ import annotations

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from daemon.emulator.client import BotControl, ControlApiError, EmulatorClient
from tests.emulator.ptb import ptb_bot, running

USER = 506


@pytest.mark.parametrize(
    ("verb", "path", "body", "error"),
    [
        ("POST", "/messages", {"from": USER}, "'text' must be a non-empty string"),
        ("POST", "/messages", {"from": "me", "text": "x"}, "'from' must be an integer, got 'me'"),
        (
            "POST",
            "/messages",
            {"from": USER, "text": "x", "chat_id": -5},
            "no chat -5: create groups first",
        ),
        (
            "POST",
            "/callbacks",
            {"from": USER, "message_id": 99, "data": "x"},
            f"no message 99 in chat {USER}",
        ),
        (
            "POST",
            "/chats",
            {"type": "channel"},
            "chat type 'channel' is not group or supergroup "
            "(private chats appear when a user writes)",
        ),
        ("POST", "/users", {"id": -1}, "a user id is positive, got -1"),
        ("POST", "/webhook", {}, "'url' is required (DELETE this path to remove the webhook)"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    bot: BotControl, verb: str, path: str, body: dict[str, object], error: str
) -> None:
    before = (bot.pending_updates(), bot.summary())
    with pytest.raises(ControlApiError) as refused:
        bot._call(verb, path, body)
    assert str(refused.value) == f"{verb} /bots/{bot.id}{path}: {error}"
    assert (bot.pending_updates(), bot.summary()) == before


def test_unknown_bots_and_non_json_bodies(emulator: EmulatorClient) -> None:
    with pytest.raises(ControlApiError, match="no bot '1'"):
        emulator.bot(1)
    response = httpx.post(f"{emulator.base_url}/_emulator/bots", content=b"[1, 2")
    assert (response.status_code, response.json()["error"]) == (400, "the body is not JSON")


def test_a_given_token_is_checked(emulator: EmulatorClient) -> None:
    with pytest.raises(ControlApiError, match="a token is <numeric bot id>:<secret>"):
        emulator.create_bot(token="nonsense")
    made = emulator.create_bot(token="555000111:given-secret", username="given_bot")
    assert (made.id, made.token) == (555000111, "555000111:given-secret")
    with pytest.raises(ControlApiError, match="bot 555000111 exists already"):
        emulator.create_bot(token="555000111:other")


async def test_a_button_pressed_in_a_group(bot: BotControl) -> None:
    group = bot.create_group("desk", supergroup=True)["id"]
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Sell", callback_data="sell:BTC")]])
    async with running(ptb_bot(bot)) as client:
        message = await client.send_message(group, "BTC hit its stop", reply_markup=markup)
        bot.press(USER, message.message_id, "sell:BTC", chat_id=group)
        [update] = await client.get_updates()
    query = update.callback_query
    assert (query.from_user.id, query.message.chat.id, query.data) == (USER, group, "sell:BTC")
    assert query.message.chat.type == "supergroup"
