"""The control API under /_emulator: what tests and the sandbox use to play the users.

Every answer is `{"ok": true, "result": …}` or `{"ok": false, "error": "…"}` with 400/404.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from daemon.emulator.botapi import EMULATOR_KEY
from daemon.emulator.counters import Counters
from daemon.emulator.entities import bot_command_entities
from daemon.emulator.errors import ApiError
from daemon.emulator.faults import Fault, FaultSpecError
from daemon.emulator.methods import delete_webhook, set_webhook
from daemon.emulator.params import Params
from daemon.emulator.registry import TokenError
from daemon.emulator.runtime import Caller, EmulatedBot
from daemon.emulator.world import Chat, User

PREFIX = "/_emulator"
CONTROL_CALLER = Caller("emulator-control", "control")
_user_ids = itertools.count(10001)
_group_ids = itertools.count(1)


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def guarded(handler: Handler) -> Handler:
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ControlError as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=exc.status)
        except (ApiError, FaultSpecError, TokenError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)

    return run


async def body_of(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = json.loads(await request.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ControlError("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body


def bot_of(request: web.Request) -> EmulatedBot:
    try:
        bot = request.app[EMULATOR_KEY].by_id.get(int(request.match_info["bot_id"]))
    except ValueError:
        bot = None
    if bot is None:
        raise ControlError(f"no bot {request.match_info['bot_id']!r}", 404)
    return bot


def integer(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(f"{key!r} must be an integer, got {value!r}")
    return value


def bot_summary(bot: EmulatedBot) -> dict[str, Any]:
    world = bot.world
    return {
        "id": world.me.id,
        "token": world.token,
        "username": world.me.username,
        "pending_updates": len(world.updates),
        "webhook": world.webhook.to_api(len(world.updates)) if world.webhook else None,
        "waiting_poller": bot.polls.waiting_caller,
        "flood": bot.flood.settings.__dict__,
        "webhook_deliveries": bot.delivery.delivered,
        "foreign_poller": bot.foreign_poller is not None and bot.foreign_poller.running,
    }


# -- bots, users, chats -------------------------------------------------------------------
async def create_bot(request: web.Request) -> web.Response:
    body = await body_of(request)
    emulator = request.app[EMULATOR_KEY]
    flood = emulator.flood.updated(body.get("flood") or {}) if "flood" in body else None
    bot = emulator.add_bot(body.get("token"), body.get("username"), flood)
    return ok(bot_summary(bot))


async def list_bots(request: web.Request) -> web.Response:
    return ok([bot_summary(b) for b in request.app[EMULATOR_KEY].by_id.values()])


async def show_bot(request: web.Request) -> web.Response:
    return ok(bot_summary(bot_of(request)))


def user_for(bot: EmulatedBot, user_id: int) -> User:
    """A known user, or a new one: a message from anyone makes them known, as on Telegram."""
    return bot.world.users.get(user_id) or bot.world.add_user(User(user_id, f"User{user_id}"))


async def create_user(request: web.Request) -> web.Response:
    bot, body = bot_of(request), await body_of(request)
    user_id = integer(body, "id") if "id" in body else next(_user_ids)
    if user_id <= 0:
        raise ControlError(f"a user id is positive, got {user_id}")
    user = bot.world.add_user(
        User(
            user_id,
            str(body.get("first_name") or f"User{user_id}"),
            body.get("username"),
            False,
            body.get("language_code"),
        )
    )
    return ok(user.to_api())


async def block_bot(request: web.Request) -> web.Response:
    """The user blocks ({"blocked": true}) or unblocks the bot; `notify` (default true)
    queues the my_chat_member update Telegram sends for it."""
    bot, body = bot_of(request), await body_of(request)
    user = user_for(bot, int(request.match_info["user_id"]))
    blocked, notify = body.get("blocked", True), body.get("notify", True)
    if not isinstance(blocked, bool) or not isinstance(notify, bool):
        raise ControlError("'blocked' and 'notify' are true or false")
    update = bot.world.set_blocked(user, blocked, notify)
    return ok({"blocked": blocked, "update_id": update["update_id"] if update else None})


async def create_chat(request: web.Request) -> web.Response:
    bot, body = bot_of(request), await body_of(request)
    kind = body.get("type", "group")
    if kind not in ("group", "supergroup"):
        raise ControlError(
            f"chat type {kind!r} is not group or supergroup "
            "(private chats appear when a user writes)"
        )
    number = next(_group_ids)
    default_id = -(1000000000000 + number) if kind == "supergroup" else -(4000000000 + number)
    chat_id = integer(body, "id") if "id" in body else default_id
    if chat_id >= 0:
        raise ControlError(f"a group chat id is negative, got {chat_id}")
    chat = bot.world.add_chat(Chat(chat_id, kind, title=str(body.get("title") or "Group")))
    return ok(chat.to_api())


# -- what users do ------------------------------------------------------------------------
def chat_for(bot: EmulatedBot, user: User, body: dict[str, Any]) -> Chat:
    if "chat_id" not in body or body["chat_id"] == user.id:
        return bot.world.private_chat(user)
    chat = bot.world.chats.get(integer(body, "chat_id"))
    if chat is None:
        raise ControlError(f"no chat {body['chat_id']!r}: create groups first", 404)
    return chat


async def inject_message(request: web.Request) -> web.Response:
    bot, body = bot_of(request), await body_of(request)
    text = body.get("text")
    if not isinstance(text, str) or not text:
        raise ControlError("'text' must be a non-empty string")
    user = user_for(bot, integer(body, "from"))
    chat = chat_for(bot, user, body)
    content: dict[str, Any] = {"text": text}
    entities = bot_command_entities(text)
    if entities:
        content["entities"] = entities
    message = bot.world.new_message(chat, user, content)
    update = bot.world.enqueue("message", message.to_api())
    return ok({"update_id": update["update_id"] if update else None, "message": message.to_api()})


async def press_button(request: web.Request) -> web.Response:
    bot, body = bot_of(request), await body_of(request)
    user = user_for(bot, integer(body, "from"))
    chat = chat_for(bot, user, body)
    message = bot.world.messages.get((chat.id, integer(body, "message_id")))
    if message is None or message.deleted:
        raise ControlError(f"no message {body['message_id']} in chat {chat.id}", 404)
    data = body.get("data")
    if not isinstance(data, str):
        raise ControlError("'data' must be a string")
    if not body.get("forge") and data not in message.callback_data():
        raise ControlError(
            f"message {message.message_id} has no button with data {data!r} "
            "(pass forge: true to send it anyway, as a modified client could)"
        )
    query = bot.world.new_callback_query()
    payload = {
        "id": query.id,
        "from": user.to_api(),
        "message": message.to_api(),
        "chat_instance": str(abs(chat.id)),
        "data": data,
    }
    update = bot.world.enqueue("callback_query", payload)
    return ok({"update_id": update["update_id"] if update else None, "callback_query_id": query.id})


async def callback_answer(request: web.Request) -> web.Response:
    query = bot_of(request).world.callback_queries.get(request.match_info["query_id"])
    if query is None:
        raise ControlError("no such callback query", 404)
    return ok({"answered": query.answered, "answer": query.answer})


# -- what the bot did ---------------------------------------------------------------------
async def sent_messages(request: web.Request) -> web.Response:
    world = bot_of(request).world
    chat = request.query.get("chat_id")
    messages = [m for m in world.sent_log if chat is None or str(m.chat.id) == chat]
    return ok([{**m.to_api(), "deleted": m.deleted} for m in messages])


async def stored_file(request: web.Request) -> web.Response:
    stored = bot_of(request).world.files.get(request.match_info["file_id"])
    if stored is None:
        raise ControlError("no such file", 404)
    headers = {}
    if stored.filename:
        # The web chat's download link: saved under the name the bot gave the file.
        disposition = "attachment" if request.query.get("download") else "inline"
        name = "".join(c for c in stored.filename if c.isprintable() and c not in '"\\')
        headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return web.Response(
        body=stored.data,
        content_type=stored.mime_type or "application/octet-stream",
        headers=headers,
    )


async def pending_updates(request: web.Request) -> web.Response:
    return ok(list(bot_of(request).world.updates))


async def inject_update(request: web.Request) -> web.Response:
    """Queue an update of any kind with any payload, as given: for tests of what the bot
    does with updates it cannot read (Telegram adds fields and kinds over time)."""
    bot, body = bot_of(request), await body_of(request)
    kind, payload = body.get("kind"), body.get("payload")
    if not isinstance(kind, str) or not isinstance(payload, dict):
        raise ControlError("'kind' is an update type and 'payload' an object")
    update = bot.world.enqueue(kind, payload)
    return ok({"update_id": update["update_id"] if update else None})


async def restart_update_ids(request: web.Request) -> web.Response:
    """Start update ids afresh at `next` (Telegram does so after a week without updates)."""
    bot, body = bot_of(request), await body_of(request)
    next_id = integer(body, "next")
    if next_id < 1:
        raise ControlError("'next' must be a positive update_id")
    bot.world.restart_update_ids(next_id)
    return ok({"next": next_id})


async def revoke_token(request: web.Request) -> web.Response:
    """The owner revoked the token in @BotFather: every Bot API call with it gets 401."""
    bot = bot_of(request)
    request.app[EMULATOR_KEY].by_token.pop(bot.world.token, None)
    return ok({"revoked": True})


async def commands(request: web.Request) -> web.Response:
    stored = bot_of(request).world.commands
    return ok(
        [
            {"scope": scope, "language_code": lang, "commands": cmds}
            for (scope, lang), cmds in stored.items()
        ]
    )


# -- the world around the bot -------------------------------------------------------------
async def set_webhook_elsewhere(request: web.Request) -> web.Response:
    """A webhook set by another deployment of the same token."""
    bot, body = bot_of(request), await body_of(request)
    if not body.get("url"):
        raise ControlError("'url' is required (DELETE this path to remove the webhook)")
    await set_webhook(bot, Params(body), CONTROL_CALLER)
    return ok(bot_summary(bot))


async def delete_webhook_elsewhere(request: web.Request) -> web.Response:
    bot = bot_of(request)
    await delete_webhook(bot, Params({}), CONTROL_CALLER)
    return ok(bot_summary(bot))


async def add_fault(request: web.Request) -> web.Response:
    bot = bot_of(request)
    fault = Fault.from_api(await body_of(request))
    bot.faults.add(fault)
    return ok(bot.faults.to_api())


async def list_faults(request: web.Request) -> web.Response:
    return ok(bot_of(request).faults.to_api())


async def clear_faults(request: web.Request) -> web.Response:
    bot = bot_of(request)
    bot.faults.clear()
    return ok([])


async def counters(request: web.Request) -> web.Response:
    return ok(bot_of(request).counters.to_api())


async def polls(request: web.Request) -> web.Response:
    """Every getUpdates call, from arrival to answer, on the emulator's monotonic clock
    (caller, started, ended, ended_by): whether two pollers ever overlapped."""
    return ok(list(bot_of(request).counters.polls))


async def reset_counters(request: web.Request) -> web.Response:
    bot = bot_of(request)
    bot.counters = Counters()
    return ok(bot.counters.to_api())


async def set_flood(request: web.Request) -> web.Response:
    bot, body = bot_of(request), await body_of(request)
    try:
        settings = bot.flood.settings.updated(body)
    except ValueError as exc:
        raise ControlError(str(exc)) from exc
    bot.flood.reconfigure(settings)
    return ok(settings.__dict__)


async def health(request: web.Request) -> web.Response:
    return ok({"bots": len(request.app[EMULATOR_KEY].by_id)})


def add_control_routes(app: web.Application) -> None:
    bot = PREFIX + "/bots/{bot_id}"
    routes = [
        ("GET", PREFIX, health),
        ("GET", PREFIX + "/bots", list_bots),
        ("POST", PREFIX + "/bots", create_bot),
        ("GET", bot, show_bot),
        ("POST", bot + "/users", create_user),
        ("POST", bot + "/chats", create_chat),
        ("POST", bot + "/users/{user_id:[0-9]+}/block", block_bot),
        ("POST", bot + "/messages", inject_message),
        ("POST", bot + "/callbacks", press_button),
        ("GET", bot + "/callbacks/{query_id}", callback_answer),
        ("GET", bot + "/sent", sent_messages),
        ("GET", bot + "/files/{file_id}", stored_file),
        ("GET", bot + "/updates", pending_updates),
        ("POST", bot + "/updates", inject_update),
        ("POST", bot + "/update_ids", restart_update_ids),
        ("POST", bot + "/revoke", revoke_token),
        ("GET", bot + "/commands", commands),
        ("POST", bot + "/webhook", set_webhook_elsewhere),
        ("DELETE", bot + "/webhook", delete_webhook_elsewhere),
        ("GET", bot + "/faults", list_faults),
        ("POST", bot + "/faults", add_fault),
        ("DELETE", bot + "/faults", clear_faults),
        ("GET", bot + "/counters", counters),
        ("GET", bot + "/polls", polls),
        ("DELETE", bot + "/counters", reset_counters),
        ("PUT", bot + "/flood", set_flood),
    ]
    add_guarded(app, routes)


def add_guarded(app: web.Application, routes: Sequence[tuple[str, str, Handler]]) -> None:
    """Control routes: each handler's ControlError (and the emulator's own errors)
    answered as {"ok": false, "error": …}."""
    for verb, path, handler in routes:
        app.router.add_route(verb, path, guarded(handler))
