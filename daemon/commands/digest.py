"""Admin /digest: the digest as the timer would send it now, as a preview (not recorded)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from daemon.commands.registry import Command, CommandCall, Registry, Reply, Role, Services
from daemon.digest.compose import build_digest
from daemon.digest.period import period_for


async def digest(call: CommandCall, services: Services) -> Reply:
    _key, reply = build_digest(
        services.settings(),
        services.registry,
        "day",
        call.now,
        services.published_admin_menu(),
        poller_running=True,  # this very process holds the lock
    )
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
