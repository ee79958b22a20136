"""The routing tree, as Alertmanager's: the root matches every alert and names a
receiver; a child route matches by its matchers and inherits what it leaves unset
(receiver, grouping, timings) from its parent. An alert goes down the tree depth first:
to the first matching child (and on to the next siblings only when that child says
`continue`), and stops at the deepest routes that match. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from daemon.alerts.matchers import Matcher, all_match


@dataclass(frozen=True)
class Timing:
    group_wait: float  # seconds before a new group's first notification
    group_interval: float  # between notifications of a group that got new alerts
    repeat_interval: float  # before the same alert goes to the same receiver again


@dataclass(frozen=True)
class Route:
    path: str  # "root", "root.0", "root.0.1": names the route in groups and /routes
    receiver: str
    matchers: tuple[Matcher, ...]
    group_by: tuple[str, ...]
    timing: Timing
    carry_on: bool  # Alertmanager's `continue`: try the next siblings after a match
    routes: tuple[Route, ...] = ()

    def walk(self) -> list[Route]:
        """This route and every route below it, depth first."""
        return [self, *(r for child in self.routes for r in child.walk())]


def match(route: Route, labels: Mapping[str, str]) -> list[Route]:
    """The routes an alert with `labels` is sent by, in tree order; [] when `route`
    itself does not match."""
    if not all_match(route.matchers, labels):
        return []
    found: list[Route] = []
    for child in route.routes:
        below = match(child, labels)
        if below:
            found += below
            if not child.carry_on:
                break
    return found or [route]


def group_key(route: Route, labels: Mapping[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Which of the route's groups an alert joins: its values of the route's group_by
    labels (all alerts of the route together when there are none)."""
    return route.path, tuple((name, labels.get(name, "")) for name in route.group_by)
