"""Commands anyone may run: /start, /help, /whoami, /subscribe, /unsubscribe."""

from __future__ import annotations

from daemon.commands.registry import Command, CommandCall, Registry, Role, Services
from daemon.reply import Reply
from daemon.store import chats, subscribers


async def start(call: CommandCall, services: Services) -> Reply:
    starts = chats.record_start(call.chat_id, call.chat_kind, call.user_name, call.now)
    if call.is_admin and call.chat_kind == "private":
        # Telegram refuses a chat-scoped menu until the admin has a chat with the bot:
        # now there is one.
        services.menus_changed()
    greeting = f"Hello {call.user_name}!" if starts == 1 else f"Welcome back, {call.user_name}."
    return Reply(
        title=greeting,
        lines=("I am tradebotd, a trading companion.", "/help lists what you can run here."),
    )


async def help_command(call: CommandCall, services: Services) -> Reply:
    visible = services.registry.visible_to(call.is_admin)
    return Reply(
        title="Commands",
        rows=tuple(
            (f"/{c.name}" + (f" {c.usage}" if c.usage else ""), c.description) for c in visible
        ),
    )


async def whoami(call: CommandCall, services: Services) -> Reply:
    if call.user_id in services.env_admins():
        role = "admin (ADMIN_IDS)"
    elif call.is_admin:
        role = "admin (added at runtime)"
    else:
        role = "user"
    return Reply(rows=(("id", str(call.user_id)), ("role", role)))


async def subscribe(call: CommandCall, services: Services) -> Reply:
    if not subscribers.subscribe(call.chat_id, call.now):
        return Reply(lines=("This chat is subscribed already.",))
    return Reply(lines=("Subscribed: this chat will receive broadcasts. /unsubscribe stops them.",))


async def unsubscribe(call: CommandCall, services: Services) -> Reply:
    if not subscribers.unsubscribe(call.chat_id):
        return Reply(lines=("This chat was not subscribed.",))
    return Reply(lines=("Unsubscribed: no more broadcasts here.",))


def register(registry: Registry) -> None:
    for name, description, handler in (
        ("start", "say hello and register this chat", start),
        ("help", "the commands you may run", help_command),
        ("whoami", "your Telegram id and role here", whoami),
        ("subscribe", "receive broadcasts in this chat", subscribe),
        ("unsubscribe", "stop receiving broadcasts", unsubscribe),
    ):
        registry.add(Command(name, Role.PUBLIC, "", description, handler, group="public"))
