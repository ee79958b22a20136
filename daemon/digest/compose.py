"""Composing the digest from the database: shared by `tradebotd digest` and /digest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from daemon.commands.registry import Registry, Reply, Role
from daemon.config import Settings
from daemon.digest.facts import gather
from daemon.digest.period import period_for
from daemon.digest.render import digest_reply


def admin_self_checks(registry: Registry, settings: Settings) -> dict[str, Callable[[], object]]:
    checks: dict[str, Callable[[], object]] = {}
    for command in registry:
        if command.role is Role.ADMIN and command.self_check is not None:
            checks[command.name] = lambda check=command.self_check: check(settings)
    return checks


def build_digest(
    settings: Settings,
    registry: Registry,
    kind: str,
    now: datetime,
    published_admin_menu: tuple[str, ...] | None,
    poller_running: bool | None,
) -> tuple[str, Reply]:
    """(period key, digest) from the database; shared by the runner and /digest."""
    period = period_for(kind, now, settings.digest.timezone)
    admin_names = tuple(c.name for c in registry if c.role is Role.ADMIN)
    facts = gather(
        period,
        now,
        settings.heartbeat_interval,
        admin_names,
        published_admin_menu,
        admin_self_checks(registry, settings),
        poller_running,
    )
    return period.key, digest_reply(facts)
