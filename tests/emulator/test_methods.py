"""The Bot API methods, called by python-telegram-bot over real HTTP."""

from __future__ import annotations

import struct
import zlib

import pytest
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, InvalidToken

from daemon.emulator.client import BotControl, ControlApiError
from tests.emulator.ptb import ptb_bot, running

USER = 504


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def test_get_me_names_the_bot(bot: BotControl) -> None:
    async with running(ptb_bot(bot)) as client:
        assert client.id == bot.id
        assert client.username == bot.summary()["username"]


async def test_a_wrong_token_is_invalid(bot: BotControl) -> None:
    from telegram import Bot

    wrong = Bot(f"{bot.id}:not-the-secret", base_url=bot.base_url)
    with pytest.raises(InvalidToken):
        await wrong.initialize()


async def test_sending_to_a_user_who_never_wrote_fails(bot: BotControl) -> None:
    """As on Telegram: a chat exists only once its user has written to the bot."""
    async with running(ptb_bot(bot)) as client:
        with pytest.raises(BadRequest, match=r"^Chat not found$"):
            await client.send_message(USER, "hello?")
        bot.send_text(USER, "/start")
        sent = await client.send_message(USER, "hello!")
    assert sent.chat.id == USER
    assert [m["text"] for m in bot.sent(USER)] == ["hello!"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("x" * 4097, "^Message is too long$"),
        ("   ", "^Message text is empty$"),
        ("1 < 2", '^Can\'t parse entities: unsupported start tag "" at byte offset 2$'),
        ("<b>bold", "^Can't parse entities: can't find end tag corresponding to start tag \"b\"$"),
        (
            "<b>x</i>",
            '^Can\'t parse entities: unmatched end tag "i", expected "</b>" at byte offset 4$',
        ),
    ],
)
async def test_bad_text_is_refused_and_nothing_is_sent(
    bot: BotControl, text: str, error: str
) -> None:
    bot.send_text(USER, "/start")
    async with running(ptb_bot(bot)) as client:
        with pytest.raises(BadRequest, match=error):
            await client.send_message(USER, text, parse_mode=ParseMode.HTML)
    assert bot.sent(USER) == []


async def test_html_becomes_entities_and_4096_characters_fit(bot: BotControl) -> None:
    bot.send_text(USER, "/start")
    async with running(ptb_bot(bot)) as client:
        sent = await client.send_message(
            USER, "<b>BTC</b> &lt;up&gt; <i>5%</i>", parse_mode=ParseMode.HTML
        )
        longest = await client.send_message(USER, "y" * 4096)
    assert sent.text == "BTC <up> 5%"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 3),
        ("italic", 9, 2),
    ]
    assert len(longest.text) == 4096


async def test_callback_data_over_64_bytes_is_refused(bot: BotControl) -> None:
    bot.send_text(USER, "/start")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("go", callback_data="x" * 65)]])
    async with running(ptb_bot(bot)) as client:
        with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
            await client.send_message(USER, "pick", reply_markup=markup)


async def test_buttons_edits_and_deletes(bot: BotControl) -> None:
    """A pressed button becomes a callback_query; the bot answers it once, edits and
    deletes its message; Telegram's errors follow each misuse."""
    bot.send_text(USER, "/start")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Confirm", callback_data="ok:1")]])
    async with running(ptb_bot(bot)) as client:
        message = await client.send_message(USER, "Sure?", reply_markup=markup)
        with pytest.raises(ControlApiError, match="has no button with data 'forged'"):
            bot.press(USER, message.message_id, "forged")
        forged = bot.press(USER, message.message_id, "forged", forge=True)
        pressed = bot.press(USER, message.message_id, "ok:1")
        queries = [u.callback_query for u in await client.get_updates() if u.callback_query]
        assert [q.data for q in queries] == ["forged", "ok:1"]
        assert queries[1].message.message_id == message.message_id
        assert queries[1].from_user.id == USER
        assert await client.answer_callback_query(pressed["callback_query_id"], text="Done")
        with pytest.raises(BadRequest, match=r"^Query is too old"):
            await client.answer_callback_query(pressed["callback_query_id"])
        assert bot.callback_answer(pressed["callback_query_id"])["answer"]["text"] == "Done"
        assert not bot.callback_answer(forged["callback_query_id"])["answered"]

        edited = await client.edit_message_text("Confirmed", USER, message.message_id)
        assert edited.text == "Confirmed"
        assert edited.reply_markup is None
        with pytest.raises(BadRequest, match=r"^Message is not modified"):
            await client.edit_message_text("Confirmed", USER, message.message_id)
        with_markup = await client.edit_message_reply_markup(
            USER, message.message_id, reply_markup=markup
        )
        assert with_markup.reply_markup == markup
        assert await client.delete_message(USER, message.message_id)
        with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
            await client.delete_message(USER, message.message_id)
        with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
            await client.edit_message_text("gone", USER, message.message_id)
    [stored] = bot.sent(USER)
    assert (stored["text"], stored["deleted"]) == ("Confirmed", True)


async def test_a_user_message_cannot_be_edited_by_the_bot(bot: BotControl) -> None:
    message_id = bot.send_text(USER, "/start")["message"]["message_id"]
    async with running(ptb_bot(bot)) as client:
        with pytest.raises(BadRequest, match=r"^Message can't be edited$"):
            await client.edit_message_text("hijacked", USER, message_id)


async def test_photos_and_documents_are_stored(bot: BotControl) -> None:
    bot.send_text(USER, "/start")
    async with running(ptb_bot(bot)) as client:
        photo = await client.send_photo(
            USER, png(64, 32), caption="<b>P&amp;L</b>", parse_mode=ParseMode.HTML
        )
        with pytest.raises(BadRequest, match=r"^Image_process_failed$"):
            await client.send_photo(USER, b"not an image")
        with pytest.raises(BadRequest, match=r"^Failed to get http url content$"):
            await client.send_photo(USER, "https://example.invalid/chart.png")
        again = await client.send_photo(USER, photo.photo[-1].file_id)
        document = await client.send_document(
            USER, b"date,pnl\n2026-11-28,1.50\n", filename="ledger.csv"
        )
    assert (photo.photo[-1].width, photo.photo[-1].height) == (64, 32)
    assert photo.caption == "P&L"
    assert again.photo[-1].width == 64
    assert document.document.file_name == "ledger.csv"
    assert bot.file(document.document.file_id) == b"date,pnl\n2026-11-28,1.50\n"


async def test_chat_actions(bot: BotControl) -> None:
    bot.send_text(USER, "/start")
    async with running(ptb_bot(bot)) as client:
        assert await client.send_chat_action(USER, ChatAction.TYPING)
        with pytest.raises(BadRequest, match=r"^Wrong parameter action in request$"):
            await client.send_chat_action(USER, "dancing")


async def test_command_menus_per_scope(bot: BotControl) -> None:
    """setMyCommands stores a menu per scope and language; getMyCommands reads that
    exact scope back; deleteMyCommands removes it."""
    bot.send_text(USER, "/start")
    public = [BotCommand("start", "Start"), BotCommand("help", "Help")]
    admin = [*public, BotCommand("status", "Daemon status")]
    async with running(ptb_bot(bot)) as client:
        assert await client.set_my_commands(public)
        assert await client.set_my_commands(admin, scope=BotCommandScopeChat(USER))
        assert await client.get_my_commands() == tuple(public)
        assert await client.get_my_commands(scope=BotCommandScopeChat(USER)) == tuple(admin)
        assert await client.get_my_commands(language_code="de") == ()
        with pytest.raises(BadRequest, match=r"^Bot_command_invalid$"):
            await client.set_my_commands([BotCommand("Status", "bad name")])
        with pytest.raises(BadRequest, match=r"^Chat not found$"):
            await client.set_my_commands(admin, scope=BotCommandScopeChat(999))
        assert await client.delete_my_commands(scope=BotCommandScopeDefault())
        assert await client.get_my_commands() == ()
    assert [entry["scope"] for entry in bot.commands()] == [f"chat:{USER}"]


async def test_group_messages(bot: BotControl) -> None:
    group = bot.create_group("desk")["id"]
    bot.send_text(USER, "/price BTC", chat_id=group)
    async with running(ptb_bot(bot)) as client:
        [update] = await client.get_updates()
        assert (update.message.chat.type, update.message.chat.id) == ("group", group)
        assert update.message.entities[0].type == "bot_command"
        await client.send_message(group, "BTC 1")
    assert [m["chat"]["id"] for m in bot.sent(group)] == [group]
