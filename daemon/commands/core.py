"""The core commands: /start, /help and admin /status."""

from __future__ import annotations

from datetime import timedelta

from daemon.commands.registry import Command, CommandCall, Registry, Reply, Role, Services
from daemon.store import chats, events, outbox
from daemon.vitals import format_age, format_duration


async def start(call: CommandCall, services: Services) -> Reply:
    starts = chats.record_start(call.chat_id, call.chat_kind, call.user_name, call.now)
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


async def status(call: CommandCall, services: Services) -> Reply:
    s = services.vitals.snapshot(services.monotonic())
    day_ago = call.now - timedelta(days=1)
    return Reply(
        title=f"tradebotd {s.version}",
        rows=(
            ("uptime", format_duration(s.uptime)),
            ("mode", s.mode),
            ("state", s.state),
            ("offset", str(s.offset)),
            ("last poll", format_age(s.last_poll_age)),
            ("updates handled", str(s.updates_handled)),
            (
                "conflicts",
                f"{s.conflicts} since start, "
                f"{events.count_since('conflict', day_ago)} episodes in 24h",
            ),
            ("starts (24h)", str(events.count_since("start", day_ago))),
            ("outbox", f"{outbox.backlog()} waiting, {outbox.dead_letters()} dead"),
        ),
    )


def register(registry: Registry) -> None:
    registry.add(Command("start", Role.PUBLIC, "", "say hello and register this chat", start))
    registry.add(Command("help", Role.PUBLIC, "", "the commands you may run", help_command))
    registry.add(
        Command("status", Role.ADMIN, "", "uptime, mode, offset, last poll, conflicts", status)
    )
