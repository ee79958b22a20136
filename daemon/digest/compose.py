"""Composing the digest from the database: shared by `tradebotd digest` and /digest."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from daemon.alerts.summary import alerts_summary
from daemon.autosell.summary import autosell_summary
from daemon.cluster.facts import cluster_rows
from daemon.config import Settings
from daemon.digest.facts import gather
from daemon.digest.period import period_for
from daemon.digest.render import digest_reply
from daemon.digest.sections import is_down
from daemon.reply import Reply
from daemon.trading.summary import paper_summary


@dataclass(frozen=True)
class AdminCatalogue:
    """The admin commands as the digest sees them: their names and each one's
    side-effect-free self-check. Built by commands/ and handed in, so digest/ never
    imports commands/."""

    names: tuple[str, ...]
    self_checks: Mapping[str, Callable[[], object]]


@dataclass(frozen=True)
class Digest:
    key: str  # the period, "day:2026-11-29"
    reply: Reply
    daemon_down: bool  # no live daemon process, or its heartbeat is stale


def build_digest(
    settings: Settings,
    catalogue: AdminCatalogue,
    kind: str,
    now: datetime,
    published_admin_menu: tuple[str, ...] | None,
    poller_running: bool | None,
) -> Digest:
    """The digest from the database; shared by the runner and /digest."""
    period = period_for(kind, now, settings.digest.timezone)
    facts = gather(
        period,
        now,
        settings.heartbeat_interval,
        catalogue.names,
        published_admin_menu,
        catalogue.self_checks,
        poller_running,
        paper_summary(settings, now),
        autosell_summary(settings, period.start),
        alerts_summary(settings, period.start),
        cluster_rows(settings),
    )
    return Digest(period.key, digest_reply(facts), is_down(facts))
