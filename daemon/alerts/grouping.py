"""Grouping and repeat timing, with the clock passed in. Pure.

Alerts of one group (a route and its group_by values) go out together: a new group
waits `group_wait` for company, then notifies; alerts that join later go out at most
every `group_interval`. One fingerprint goes to one receiver at most once per
`repeat_interval` (a still-firing condition, such as a stale feed, is not repeated
sooner; an event carries a unique id among its labels, so its fingerprint is its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from daemon.alerts.model import Alert
from daemon.alerts.routing import Route, group_key

GroupKey = tuple[str, tuple[tuple[str, str], ...]]


@dataclass
class Group:
    route: Route
    labels: tuple[tuple[str, str], ...]
    created: datetime
    pending: dict[str, Alert] = field(default_factory=dict)  # by fingerprint
    last_flush: datetime | None = None

    def due_at(self) -> datetime | None:
        if not self.pending:
            return None
        timing = self.route.timing
        if self.last_flush is None:
            return self.created + timedelta(seconds=timing.group_wait)
        return self.last_flush + timedelta(seconds=timing.group_interval)


@dataclass(frozen=True)
class Flush:
    """One notification: a group's alerts for its receiver."""

    receiver: str
    route: str
    labels: tuple[tuple[str, str], ...]
    alerts: tuple[Alert, ...]


@dataclass
class Grouper:
    groups: dict[GroupKey, Group] = field(default_factory=dict)
    # (receiver, fingerprint) → when it was last sent there.
    sent: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def add(self, alert: Alert, route: Route, now: datetime) -> bool:
        """Queue `alert` in its group on `route`; False when its fingerprint went to the
        route's receiver within the repeat interval (a repeat, dropped)."""
        last = self.sent.get((route.receiver, alert.fingerprint))
        if last is not None and now - last < timedelta(seconds=route.timing.repeat_interval):
            return False
        key = group_key(route, alert.labels)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(route, key[1], now)
        group.pending[alert.fingerprint] = alert  # the latest text of a repeat waiting
        return True

    def next_due(self) -> datetime | None:
        times = [t for g in self.groups.values() if (t := g.due_at()) is not None]
        return min(times, default=None)

    def flush(self, now: datetime) -> list[Flush]:
        """The notifications due at `now`, oldest group first; their alerts count as
        sent to their receivers from now."""
        flushed = []
        for group in sorted(self.groups.values(), key=lambda g: g.created):
            due = group.due_at()
            if due is None or due > now:
                continue
            alerts = tuple(sorted(group.pending.values(), key=lambda a: a.at))
            receiver = group.route.receiver
            for alert in alerts:
                self.sent[(receiver, alert.fingerprint)] = now
            flushed.append(Flush(receiver, group.route.path, group.labels, alerts))
            group.pending.clear()
            group.last_flush = now
        return flushed

    def forget(self, now: datetime, repeat: Mapping[str, float]) -> None:
        """Drop idle groups and sent records past their repeat interval (by receiver),
        so memory does not grow with every alert ever seen."""
        for key, group in list(self.groups.items()):
            idle = group.last_flush or group.created
            if not group.pending and now - idle > timedelta(
                seconds=group.route.timing.group_interval
            ):
                del self.groups[key]
        for (receiver, print_), moment in list(self.sent.items()):
            if now - moment > timedelta(seconds=repeat.get(receiver, 0.0)):
                del self.sent[(receiver, print_)]
