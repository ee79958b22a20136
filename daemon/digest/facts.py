"""Everything a digest says, read from the database into one value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from daemon.alerts.summary import AlertsSummary
from daemon.autosell.summary import AutoSellSummary
from daemon.digest.period import Period
from daemon.store import backups, events, stats
from daemon.trading.summary import PaperSummary


@dataclass(frozen=True)
class DigestFacts:
    period: Period
    now: datetime
    heartbeat_interval: float
    last_heartbeat: datetime | None
    minutes_up: int
    starts: int
    unclean_starts: int
    conflicts: int
    updates: int
    errors: int
    commands_run: Mapping[str, int]
    admin_commands: tuple[str, ...]  # in the registry
    published_admin_menu: tuple[str, ...] | None  # getMyCommands for an admin; None: unknown
    self_checks: Mapping[str, str | None] = field(default_factory=dict)  # name → error or None
    planned_admin_commands: int = 18
    # Whether a live process holds the poller lock on this host (None: not known). False
    # means down now, whatever the last heartbeat says.
    poller_running: bool | None = None
    # The paper account (None: no [[prices.symbols]], so no paper trading).
    paper: PaperSummary | None = None
    autosell: AutoSellSummary | None = None
    alerts: AlertsSummary | None = None
    last_backup: datetime | None = None  # `tradebotd backup` records it
    # [ha]: the nodes, the leader, the epoch, the last failover (cluster/report.py rows)
    cluster: tuple[tuple[str, str], ...] | None = None
    # [ha]: seconds each node was up within the period (its lease loop reached the database)
    nodes_up: Mapping[str, int] = field(default_factory=dict)


def gather(
    period: Period,
    now: datetime,
    heartbeat_interval: float,
    admin_commands: tuple[str, ...],
    published_admin_menu: tuple[str, ...] | None,
    self_checks: Mapping[str, Callable[[], object]],
    poller_running: bool | None = None,
    paper: PaperSummary | None = None,
    autosell: AutoSellSummary | None = None,
    alerts: AlertsSummary | None = None,
    cluster: list[tuple[str, str]] | None = None,
) -> DigestFacts:
    results: dict[str, str | None] = {}
    for name, check in self_checks.items():
        try:
            check()
            results[name] = None
        except Exception as exc:  # a failing self-check is reported, not fatal
            results[name] = f"{type(exc).__name__}: {exc}"
    starts, unclean_starts = events.starts_since(period.start)
    return DigestFacts(
        period=period,
        now=now,
        heartbeat_interval=heartbeat_interval,
        last_heartbeat=events.last_heartbeat(),
        last_backup=_last_backup_at(),
        minutes_up=stats.minutes_up(period.start, period.end),
        starts=starts,
        unclean_starts=unclean_starts,
        conflicts=events.count_since("conflict", period.start),
        updates=stats.total(stats.UPDATES, period.start, period.end),
        errors=stats.total(stats.ERRORS, period.start, period.end),
        commands_run=stats.totals_by_suffix(stats.COMMAND, period.start, period.end),
        admin_commands=admin_commands,
        published_admin_menu=published_admin_menu,
        self_checks=results,
        poller_running=poller_running,
        paper=paper,
        autosell=autosell,
        alerts=alerts,
        cluster=tuple(cluster) if cluster is not None else None,
        nodes_up=stats.totals_by_suffix(stats.NODE_UP, period.start, period.end)
        if cluster is not None
        else {},
    )


def _last_backup_at() -> datetime | None:
    record = backups.last()
    return record.at if record is not None else None
