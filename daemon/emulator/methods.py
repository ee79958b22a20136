"""The Bot API methods the emulator serves, each `(bot, params, caller) -> result`."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from daemon.emulator.entities import EntityParseError, parse_html, utf16_len
from daemon.emulator.errors import (
    CONFLICT_SET_WEBHOOK,
    ApiError,
    bad_request,
    too_many_requests,
)
from daemon.emulator.markup import validate_reply_markup
from daemon.emulator.media import image_size
from daemon.emulator.params import Params
from daemon.emulator.runtime import Caller, EmulatedBot
from daemon.emulator.webhook import is_loopback_url
from daemon.emulator.world import Chat, Message, Webhook

Method = Callable[[EmulatedBot, Params, Caller], Awaitable[Any]]
# lower-cased name (Telegram matches method names case-insensitively) -> (name, method)
METHODS: dict[str, tuple[str, Method]] = {}

MAX_TEXT = 4096
MAX_CAPTION = 1024
CALLBACK_ANSWER_WINDOW = 15 * 60
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SCOPES = {
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
    "chat",
    "chat_administrators",
    "chat_member",
}
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def method(name: str) -> Callable[[Method], Method]:
    def register(fn: Method) -> Method:
        METHODS[name.lower()] = (name, fn)
        return fn

    return register


# -- formatted text -----------------------------------------------------------------------
def formatted(params: Params, field: str, limit: int, too_long: str) -> dict[str, Any]:
    """{field, <field>_entities} after parse_mode, or 400 as Telegram words it."""
    raw = params.text(field)
    entities_field = "caption_entities" if field == "caption" else "entities"
    mode = params.text("parse_mode").lower()
    entities: list[dict[str, Any]] = []
    if mode == "html":
        try:
            raw, entities = parse_html(raw)
        except EntityParseError as exc:
            raise bad_request(str(exc)) from exc
    elif mode not in ("", "markdown", "markdownv2"):
        raise bad_request("unsupported parse_mode")
    elif params.has(entities_field):
        # Markdown is passed through unparsed: the daemon formats with HTML only.
        entities = params.json_object(entities_field, "entities") or []
    text = raw.strip()
    if utf16_len(text) > limit:
        raise bad_request(too_long)
    content: dict[str, Any] = {field: text} if text else {}
    if entities and text:
        content[entities_field] = entities
    return content


def message_text(params: Params) -> dict[str, Any]:
    content = formatted(params, "text", MAX_TEXT, "message is too long")
    if not content:
        raise bad_request("message text is empty")
    return content


def reply_markup(params: Params) -> dict[str, Any] | None:
    return validate_reply_markup(params.json_object("reply_markup", "reply keyboard markup"))


def admit_send(bot: EmulatedBot, chat: Chat) -> None:
    retry_after = bot.flood.admit(chat.id, chat.is_group, bot.monotonic())
    if retry_after is not None:
        raise too_many_requests(retry_after)


def post(
    bot: EmulatedBot, chat: Chat, content: dict[str, Any], markup: dict[str, Any] | None
) -> dict[str, Any]:
    admit_send(bot, chat)
    return bot.world.new_message(chat, bot.world.me, content, markup).to_api()


# -- identity and updates -----------------------------------------------------------------
@method("getMe")
async def get_me(bot: EmulatedBot, params: Params, caller: Caller) -> dict[str, Any]:
    return {
        **bot.world.me.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


@method("getUpdates")
async def get_updates(bot: EmulatedBot, params: Params, caller: Caller) -> list[dict[str, Any]]:
    allowed = params.json_object("allowed_updates", "allowed_updates")
    if allowed is not None and not isinstance(allowed, list):
        raise bad_request("can't parse allowed_updates JSON object")
    started, ended_by = time.monotonic(), "answered"
    try:
        return await bot.polls.get_updates(
            offset=params.integer("offset", 0),
            limit=params.integer("limit", 100, 1, 100),
            poll_seconds=params.integer("timeout", 0, 0, 50),
            caller=str(caller),
            allowed_updates=allowed,
        )
    except ApiError as exc:
        ended_by = str(exc.code)
        raise
    except asyncio.CancelledError:
        ended_by = "client gone"
        raise
    finally:
        # Who polled when: a cluster's tests prove no two getUpdates overlapped.
        bot.counters.polled(str(caller), started, time.monotonic(), ended_by)


@method("setWebhook")
async def set_webhook(bot: EmulatedBot, params: Params, caller: Caller) -> bool:
    url = params.text("url").strip()
    if not url:
        return bool(await delete_webhook(bot, params, caller))
    if not url.startswith("https://") and not (url.startswith("http://") and is_loopback_url(url)):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.text("secret_token") or None
    if secret is not None and not _SECRET.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    allowed = params.json_object("allowed_updates", "allowed_updates")
    world = bot.world
    world.webhook = Webhook(
        url,
        secret,
        params.integer("max_connections", 40, 1, 100),
        allowed if isinstance(allowed, list) else None,
    )
    world.set_allowed_updates(allowed if isinstance(allowed, list) else None)
    if params.flag("drop_pending_updates"):
        world.drop_pending()
    bot.polls.end_pending(CONFLICT_SET_WEBHOOK)
    bot.delivery.kick()
    return True


@method("deleteWebhook")
async def delete_webhook(bot: EmulatedBot, params: Params, caller: Caller) -> bool:
    bot.world.webhook = None
    if params.flag("drop_pending_updates"):
        bot.world.drop_pending()
    return True


@method("getWebhookInfo")
async def get_webhook_info(bot: EmulatedBot, params: Params, caller: Caller) -> dict[str, Any]:
    hook, pending = bot.world.webhook, len(bot.world.updates)
    if hook is None:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}
    return hook.to_api(pending)


# -- sending and editing ------------------------------------------------------------------
@method("sendMessage")
async def send_message(bot: EmulatedBot, params: Params, caller: Caller) -> dict[str, Any]:
    chat = bot.world.reachable_chat(params.chat_id())
    return post(bot, chat, message_text(params), reply_markup(params))


def _upload(bot: EmulatedBot, params: Params, field: str) -> tuple[bytes, str | None, str | None]:
    value = params.values.get(field)
    upload = params.uploads.get(field)
    if isinstance(value, str) and value.startswith("attach://"):
        upload = params.uploads.get(value.removeprefix("attach://"))
    if upload is not None:
        return upload.data, upload.filename, upload.content_type
    if isinstance(value, str) and value in bot.world.files:
        stored = bot.world.files[value]
        return stored.data, stored.filename, stored.mime_type
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        # The emulator never fetches from the network.
        raise bad_request("failed to get HTTP URL content")
    if value in (None, ""):
        raise bad_request(f"there is no {field} in the request")
    raise bad_request("wrong file identifier/HTTP URL specified")


@method("sendPhoto")
async def send_photo(bot: EmulatedBot, params: Params, caller: Caller) -> dict[str, Any]:
    chat = bot.world.reachable_chat(params.chat_id())
    data, filename, mime = _upload(bot, params, "photo")
    size = image_size(data)
    if size is None:
        raise bad_request("IMAGE_PROCESS_FAILED")
    stored = bot.world.store_file(data, filename, mime)
    content = formatted(params, "caption", MAX_CAPTION, "message caption is too long")
    content["photo"] = [
        {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": size[0],
            "height": size[1],
            "file_size": len(data),
        }
    ]
    return post(bot, chat, content, reply_markup(params))


@method("sendDocument")
async def send_document(bot: EmulatedBot, params: Params, caller: Caller) -> dict[str, Any]:
    chat = bot.world.reachable_chat(params.chat_id())
    data, filename, mime = _upload(bot, params, "document")
    if not data:
        raise bad_request("file must be non-empty")
    stored = bot.world.store_file(data, filename, mime)
    content = formatted(params, "caption", MAX_CAPTION, "message caption is too long")
    document: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(data),
    }
    if filename:
        document["file_name"] = filename
    if mime:
        document["mime_type"] = mime
    content["document"] = document
    return post(bot, chat, content, reply_markup(params))


def _own_message(bot: EmulatedBot, params: Params, purpose: str) -> Message:
    if params.has("inline_message_id"):
        raise bad_request("inline messages are not supported by the emulator")
    chat = bot.world.known_chat(params.chat_id())
    message = bot.world.find_message(chat.id, params.integer("message_id", 0), purpose)
    if purpose == "edit" and message.sender.id != bot.world.me.id:
        raise bad_request("message can't be edited")
    return message


def _apply_edit(
    bot: EmulatedBot, message: Message, content: dict[str, Any], markup: dict[str, Any] | None
) -> dict[str, Any]:
    if content == message.content and markup == message.reply_markup:
        raise bad_request(_NOT_MODIFIED)
    admit_send(bot, message.chat)
    message.content, message.reply_markup = content, markup
    message.edit_date = bot.world.now()
    bot.world.record("edit", message.to_api())
    return message.to_api()


@method("editMessageText")
async def edit_message_text(bot: EmulatedBot, params: Params, caller: Caller) -> dict[str, Any]:
    message = _own_message(bot, params, "edit")
    if "text" not in message.content:
        raise bad_request("there is no text in the message to edit")
    return _apply_edit(bot, message, message_text(params), reply_markup(params))


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(
    bot: EmulatedBot, params: Params, caller: Caller
) -> dict[str, Any]:
    message = _own_message(bot, params, "edit")
    return _apply_edit(bot, message, message.content, reply_markup(params))


@method("deleteMessage")
async def delete_message(bot: EmulatedBot, params: Params, caller: Caller) -> bool:
    message = _own_message(bot, params, "delete")
    message.deleted = True
    bot.world.record("delete", {"chat_id": message.chat.id, "message_id": message.message_id})
    return True


@method("answerCallbackQuery")
async def answer_callback_query(bot: EmulatedBot, params: Params, caller: Caller) -> bool:
    query = bot.world.callback_queries.get(params.text("callback_query_id"))
    too_old = query is None or bot.world.clock() - query.created_at > CALLBACK_ANSWER_WINDOW
    if query is None or query.answered or too_old:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    if utf16_len(params.text("text")) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered = True
    query.answer = {"text": params.text("text") or None, "show_alert": params.flag("show_alert")}
    bot.world.record("answer", {"callback_query_id": query.id, **query.answer})
    return True


@method("sendChatAction")
async def send_chat_action(bot: EmulatedBot, params: Params, caller: Caller) -> bool:
    bot.world.reachable_chat(params.chat_id())
    if params.text("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


# -- command menus ------------------------------------------------------------------------
def _scope_key(bot: EmulatedBot, params: Params) -> tuple[str, str]:
    scope = params.json_object("scope", "BotCommandScope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    key = scope["type"]
    if key in ("chat", "chat_administrators", "chat_member"):
        chat = bot.world.known_chat(Params(scope).chat_id())
        key = f"{key}:{chat.id}"
        if scope["type"] == "chat_member":
            user_id = Params(scope).integer("user_id", 0)
            if user_id not in bot.world.users:
                raise bad_request("user not found")
            key = f"{key}:{user_id}"
    language = params.text("language_code")
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("invalid language code specified")
    return key, language


@method("setMyCommands")
async def set_my_commands(bot: EmulatedBot, params: Params, caller: Caller) -> bool:
    commands = params.json_object("commands", "BotCommand array")
    if not isinstance(commands, list):
        raise bad_request("can't parse BotCommand array JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    clean: list[dict[str, str]] = []
    for entry in commands:
        if not isinstance(entry, dict) or not isinstance(entry.get("command"), str):
            raise bad_request("can't parse BotCommand JSON object")
        name = entry["command"].removeprefix("/")
        description = entry.get("description")
        if not _COMMAND_NAME.fullmatch(name):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": name, "description": description.strip()})
    bot.world.commands[_scope_key(bot, params)] = clean
    bot.world.record("commands", {})
    return True


@method("getMyCommands")
async def get_my_commands(bot: EmulatedBot, params: Params, caller: Caller) -> list[Any]:
    return list(bot.world.commands.get(_scope_key(bot, params), []))


@method("deleteMyCommands")
async def delete_my_commands(bot: EmulatedBot, params: Params, caller: Caller) -> bool:
    bot.world.commands.pop(_scope_key(bot, params), None)
    bot.world.record("commands", {})
    return True
