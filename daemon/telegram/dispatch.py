"""Wiring the command registry into PTB handlers: parse, authorize, run, queue the reply.

Handlers run inside the update's transaction (see processor.py): everything they write,
the reply in the outbox included, commits together with the update's offset.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from loguru import logger
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from daemon.commands.registry import Command, CommandCall, CommandError, Reply, Role, Services
from daemon.store import chats, outbox
from daemon.telegram.formatting import render

REFUSAL = Reply(lines=("This command is for admins only.",))
UNKNOWN = Reply(lines=("Unknown command — see /help.",))


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
        is_admin=user.id in services.settings().admin_ids,
        now=now,
    )


def _command_callback(command: Command, services: Services, utcnow: Callable[[], datetime]) -> Any:
    async def callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        now = utcnow()
        call = _call_for(command.name, update, services, now, list(context.args or ()))
        if call is None:
            return
        if command.role is Role.ADMIN and not call.is_admin:
            logger.warning("refused /{} from user {}: not an admin", command.name, call.user_id)
            reply = REFUSAL
        else:
            chats.count_command(command.name, now)
            try:
                reply = await command.handler(call, services)
            except CommandError as exc:
                reply = Reply(lines=(str(exc),))
        outbox.enqueue(call.chat_id, render(reply), now)

    return callback


def install(app: Application, services: Services, utcnow: Callable[[], datetime]) -> None:
    for command in services.registry:
        app.add_handler(CommandHandler(command.name, _command_callback(command, services, utcnow)))

    async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is not None and update.effective_chat.type == "private":
            outbox.enqueue(update.effective_chat.id, render(UNKNOWN), utcnow())

    # Added last to the same group: PTB runs the first matching handler of a group, so
    # this only sees commands no registered handler took.
    app.add_handler(MessageHandler(filters.COMMAND, unknown))
