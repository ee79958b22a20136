"""Admin /digest: the digest as the timer would send it now, as a preview (not recorded)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import partial

from daemon.commands.registry import Command, CommandCall, Registry, Role, Services
from daemon.config import Settings
from daemon.digest.compose import AdminCatalogue, build_digest
from daemon.digest.period import period_for
from daemon.reply import Reply


def admin_catalogue(registry: Registry, config: Settings) -> AdminCatalogue:
    """The admin commands and their self-checks, as the digest reports them."""
    checks: dict[str, Callable[[], object]] = {}
    for command in registry:
        if command.role is Role.ADMIN and command.self_check is not None:
            checks[command.name] = partial(command.self_check, config)
    names = tuple(c.name for c in registry if c.role is Role.ADMIN)
    return AdminCatalogue(names, checks)


async def digest(call: CommandCall, services: Services) -> Reply:
    reply = build_digest(
        services.settings(),
        admin_catalogue(services.registry, services.settings()),
        "day",
        call.now,
        services.published_admin_menu(),
        poller_running=True,  # this very process holds the lock
    ).reply
    return replace(reply, title=f"Preview: {reply.title}")


def register(registry: Registry) -> None:
    registry.add(
        Command(
            "digest",
            Role.ADMIN,
            "",
            "today's digest now, as a preview",
            digest,
            group="digest",
            self_check=lambda settings: period_for("day", datetime.now(), settings.digest.timezone),
        )
    )
