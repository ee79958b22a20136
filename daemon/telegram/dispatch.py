"""Wiring the registry into PTB handlers: parse, authorize, run, queue what to send.

Handlers run inside the update's transaction (see processor.py): everything they write,
the queued replies included, commits together with the update's offset. Every admin
command and every button press checks the caller's id against ADMIN_IDS and the runtime
admins; a refusal is logged at WARNING with the user id and changes nothing.

Replies to admins are queued at a higher priority than replies to the public, and a
public user who floods commands or buttons is throttled: one notice, then silence until
the window has room again (`[telegram] public_command_limit`, `public_command_window`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from loguru import logger
from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from daemon.commands.registry import ButtonCall, Command, CommandCall, CommandError, Role, Services
from daemon.policy.throttle import CommandThrottle, Verdict
from daemon.reply import Reply
from daemon.store import chats, subscribers
from daemon.store.database import savepoint
from daemon.store.outbox import Priority
from daemon.telegram.bot import PtbApplication
from daemon.telegram.buttons import ButtonRefused
from daemon.telegram.outgoing import Outgoing

REFUSAL = Reply(lines=("This command is for admins only.",))
UNKNOWN = Reply(lines=("Unknown command — see /help.",))
BUTTON_REFUSAL = "This button is for admins only."
BUTTON_INVALID = "This button is no longer valid."
SLOW_DOWN = Reply(
    lines=("You are sending commands too fast; I will answer again in a minute or so.",)
)
PRIVATE_FIRST = Reply(
    lines=(
        "Admin commands answer in private: open a private chat with me first "
        "(press Start there), then ask again.",
    )
)


class PublicThrottle:
    """The throttle for users who are not admins, following the running settings."""

    def __init__(self, services: Services):
        self._services = services
        self._throttle: CommandThrottle | None = None

    def verdict(self, user_id: int, is_admin: bool) -> Verdict:
        if is_admin:
            return Verdict.ALLOW
        telegram = self._services.settings().telegram
        limit, window = telegram.public_command_limit, telegram.public_command_window
        throttle = self._throttle
        if throttle is None or (throttle.limit, throttle.window) != (limit, window):
            throttle = self._throttle = CommandThrottle(limit, window)
        verdict = throttle.check(user_id, self._services.monotonic())
        if verdict is Verdict.NOTICE:
            logger.warning("user {} sends commands too fast: ignoring them for a while", user_id)
        return verdict


def priority_for(is_admin: bool) -> Priority:
    return Priority.ADMIN_REPLY if is_admin else Priority.REPLY


def _call_for(
    name: str, update: Update, services: Services, now: datetime, args: list[str]
) -> CommandCall | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    return CommandCall(
        name=name,
        args=tuple(args),
        user_id=user.id,
        user_name=user.full_name or str(user.id),
        chat_id=chat.id,
        chat_kind=chat.type,
        is_admin=services.is_admin(user.id),
        now=now,
        origin=f"update:{update.update_id}",
    )


def _command_callback(
    command: Command,
    services: Services,
    out: Outgoing,
    utcnow: Callable[[], datetime],
    throttle: PublicThrottle,
) -> Any:
    async def callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        now = utcnow()
        call = _call_for(command.name, update, services, now, list(context.args or ()))
        if call is None:
            return
        priority = priority_for(call.is_admin)
        verdict = throttle.verdict(call.user_id, call.is_admin)
        if verdict is not Verdict.ALLOW:
            if verdict is Verdict.NOTICE:
                out.send(call.chat_id, SLOW_DOWN, now, priority)
            return
        if command.role is Role.ADMIN and not call.is_admin:
            logger.warning("refused /{} from user {}: not an admin", command.name, call.user_id)
            reply = REFUSAL
        else:
            if command.role is Role.ADMIN and call.chat_kind != "private":
                # Typed in a group: /logs, /config or /status are not for every member to
                # read. The answer goes to the admin's private chat, if the bot may write
                # there.
                if not chats.is_known(call.user_id):
                    out.send(call.chat_id, PRIVATE_FIRST, now, priority)
                    return
                call = replace(call, chat_id=call.user_id)
            reply = await _run(command, call, services)
        out.send(call.chat_id, reply, now, priority)

    return callback


async def _run(command: Command, call: CommandCall, services: Services) -> Reply:
    try:
        # A savepoint: a command that refuses its input leaves nothing behind, even if
        # it wrote before deciding to refuse.
        with savepoint():
            reply = await command.handler(call, services)
            chats.count_command(command.name, call.now)
    except CommandError as exc:
        reply = Reply(lines=(str(exc),))
    return reply


def _button_callback(
    services: Services, out: Outgoing, utcnow: Callable[[], datetime], throttle: PublicThrottle
) -> Any:
    async def callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, now = update.callback_query, utcnow()
        if query is None:
            return
        user_id = query.from_user.id
        is_admin = services.is_admin(user_id)
        message = query.message
        chat_id = message.chat.id if message is not None else user_id
        priority = priority_for(is_admin)

        def answer(notice: str) -> None:
            out.answer(chat_id, query.id, notice, now, priority)

        verdict = throttle.verdict(user_id, is_admin)
        if verdict is not Verdict.ALLOW:
            # The button's spinner stops either way; only the first says why.
            answer(SLOW_DOWN.lines[0] if verdict is Verdict.NOTICE else "")
            return
        try:
            action_name, arg = out.verify(query.data or "")
        except ButtonRefused as refused:
            logger.warning("refused a {} button from user {}", refused, user_id)
            answer(BUTTON_INVALID)
            return
        action = services.registry.button(action_name)
        if action is None:
            logger.warning("refused button {!r} from user {}: no such action", action_name, user_id)
            answer(BUTTON_INVALID)
            return
        if action.role is Role.ADMIN and not is_admin:
            logger.warning("refused button {} from user {}: not an admin", action_name, user_id)
            answer(BUTTON_REFUSAL)
            return
        call = ButtonCall(action_name, arg, user_id, chat_id, is_admin, now)
        try:
            with savepoint():
                result = await action.handler(call, services)
        except CommandError as exc:
            answer(str(exc))
            return
        answer(result.notice)
        if result.reply is not None and message is not None:
            out.edit(chat_id, message.message_id, result.reply, now, priority)

    return callback


def install(
    app: PtbApplication,
    services: Services,
    out: Outgoing,
    utcnow: Callable[[], datetime],
) -> None:
    throttle = PublicThrottle(services)
    for command in services.registry:
        callback = _command_callback(command, services, out, utcnow, throttle)
        app.add_handler(CommandHandler(command.name, callback))

    async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or chat.type != "private":
            return
        is_admin = services.is_admin(user.id)
        verdict = throttle.verdict(user.id, is_admin)
        if verdict is not Verdict.IGNORE:
            reply = UNKNOWN if verdict is Verdict.ALLOW else SLOW_DOWN
            out.send(chat.id, reply, utcnow(), priority_for(is_admin))

    # Added last to the same group: PTB runs the first matching handler of a group, so
    # this only sees commands no registered handler took.
    app.add_handler(MessageHandler(filters.COMMAND, unknown))
    app.add_handler(CallbackQueryHandler(_button_callback(services, out, utcnow, throttle)))
    app.add_handler(
        ChatMemberHandler(membership_changed, chat_member_types=ChatMemberHandler.MY_CHAT_MEMBER)
    )


GONE = ("kicked", "left")


async def membership_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was blocked, or removed from a group: that chat leaves the broadcast list
    (inside the update's transaction). Back again, it must /subscribe again."""
    change = update.my_chat_member
    if change is None:
        return
    status = change.new_chat_member.status
    if status in GONE:
        was_subscribed = subscribers.unsubscribe(change.chat.id)
        logger.info(
            "chat {} {} the bot{}",
            change.chat.id,
            "blocked" if change.chat.type == "private" else "removed",
            ": unsubscribed" if was_subscribed else "",
        )
    else:
        logger.info("chat {} can reach the bot again ({})", change.chat.id, status)
