"""`[alerts]` in the TOML file: the ingest endpoint, the receivers, the routing tree.

Validated whole at load and at reload (a reload that fails keeps the running routes):
receiver names are unique, every route names a receiver that exists (or inherits one),
the root has a receiver and no matchers, matchers parse, durations are in range.
Receiver URLs and the ingest secret are secrets: never shown, redacted everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from daemon import settings_schema as declare
from daemon.alerts.matchers import MatcherError, parse_matcher
from daemon.alerts.routing import Route, Timing
from daemon.config import parse_listen, register_section

DEFAULT_TIMING = Timing(group_wait=0.0, group_interval=60.0, repeat_interval=4 * 3600.0)
DEFAULT_GROUP_BY = ("kind", "symbol")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{4,31}")
_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _listen(value: str) -> None:
    try:
        parse_listen(value)
    except ValueError:
        raise ValueError("is not HOST:PORT") from None


def _name(value: str) -> None:
    if not _NAME.fullmatch(value):
        raise ValueError("is not a receiver name (a-z, 0-9, _ and -, up to 32)")


def _matcher(value: str) -> None:
    try:
        parse_matcher(value)
    except MatcherError as exc:
        raise ValueError(exc.reason) from None


def _label(value: str) -> None:
    if not _LABEL.fullmatch(value):
        raise ValueError("is not a label name")


def _apprise(value: str) -> None:
    if "://" not in value:
        raise ValueError("is not an Apprise URL (scheme://…, e.g. discord://…)")


def _chat(value: int | str) -> None:
    if isinstance(value, str) and not _USERNAME.fullmatch(value):
        raise ValueError("is not a chat id or a @channel username")


@dataclass(frozen=True)
class IngestSettings:
    listen: str = field(
        default="127.0.0.1:8787", metadata=declare.text(_listen, doc="HOST:PORT of POST /alerts")
    )
    secret: str = field(
        default="", metadata=declare.text(secret=True, doc="ingest is off without it")
    )
    trusted_proxies: tuple[str, ...] = field(
        default=(), metadata={"doc": "peers whose X-Forwarded-For names the client"}
    )


@dataclass(frozen=True)
class ReceiverSettings:
    name: str = field(metadata=declare.text(_name, doc="what routes call it"))
    telegram: tuple[int | str, ...] = field(
        default=(),
        metadata={
            "check": _chat,
            "range": (-(10**15), 10**15),
            "doc": "chat ids or @channel usernames",
        },
    )
    apprise: tuple[str, ...] = field(
        default=(), metadata=declare.text(_apprise, secret=True, doc="Apprise URLs (secret)")
    )

    def __post_init__(self) -> None:
        if not self.telegram and not self.apprise:
            raise ValueError("telegram: a receiver needs telegram chats or apprise URLs")


@dataclass(frozen=True)
class RouteSettings:
    receiver: str = field(default="", metadata={"doc": "a receiver's name (inherited)"})
    matchers: tuple[str, ...] = field(
        default=(), metadata=declare.text(_matcher, doc='e.g. ["severity=\\"critical\\""]')
    )
    group_by: tuple[str, ...] | None = field(
        default=None,
        metadata=declare.text(_label, doc="labels that split groups (root default: kind, symbol)"),
    )
    group_wait: float | None = field(
        default=None,
        metadata=declare.seconds(0, 3600, "before a new group's first notice (root default: 0s)"),
    )
    group_interval: float | None = field(
        default=None,
        metadata=declare.seconds(1, 86400, "between notices of one group (root default: 1m)"),
    )
    repeat_interval: float | None = field(
        default=None,
        metadata=declare.seconds(60, 30 * 86400, "before an alert repeats (root default: 4h)"),
    )
    carry_on: bool = field(
        default=False, metadata={"key": "continue", "doc": "after a match, try the siblings"}
    )
    routes: tuple[RouteSettings, ...] = ()

    def tree(self, parent: Route | None, path: str) -> Route:
        """The route with what it leaves unset taken from `parent`."""
        base = parent.timing if parent else DEFAULT_TIMING
        timing = Timing(
            base.group_wait if self.group_wait is None else self.group_wait,
            base.group_interval if self.group_interval is None else self.group_interval,
            base.repeat_interval if self.repeat_interval is None else self.repeat_interval,
        )
        inherited_by = parent.group_by if parent else DEFAULT_GROUP_BY
        route = Route(
            path,
            self.receiver or (parent.receiver if parent else ""),
            tuple(parse_matcher(m) for m in self.matchers),
            inherited_by if self.group_by is None else self.group_by,
            timing,
            self.carry_on,
        )
        children = tuple(child.tree(route, f"{path}.{n}") for n, child in enumerate(self.routes))
        return Route(route.path, route.receiver, route.matchers, route.group_by, route.timing,
                     route.carry_on, children)  # fmt: skip


def _check_receivers(route: RouteSettings, names: set[str], where: str) -> None:
    if route.receiver and route.receiver not in names:
        known = ", ".join(sorted(names)) or "none"
        raise ValueError(
            f"{where}.receiver: {route.receiver!r} is not a receiver (receivers: {known})"
        )
    for n, child in enumerate(route.routes):
        _check_receivers(child, names, f"{where}.routes[{n}]")


@dataclass(frozen=True)
class AlertsSettings:
    ingest: IngestSettings = field(default_factory=IngestSettings)
    receivers: tuple[ReceiverSettings, ...] = ()
    route: RouteSettings | None = None

    def __post_init__(self) -> None:
        names = [r.name for r in self.receivers]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"receivers: {twice[0]!r} is named twice")
        if self.route is None:
            return
        if not self.route.receiver:
            raise ValueError("route.receiver: the root route needs a receiver")
        if self.route.matchers:
            raise ValueError("route.matchers: the root route matches every alert; it takes none")
        _check_receivers(self.route, set(names), "route")

    def apprise_urls(self) -> dict[str, tuple[str, ...]]:
        """Each receiver's Apprise URLs by its name (what the Apprise transport reads)."""
        return {r.name: r.apprise for r in self.receivers if r.apprise}

    def tree(self) -> Route | None:
        """The routing tree; None when no route is configured (no alert routing)."""
        return None if self.route is None else self.route.tree(None, "root")


register_section("alerts", AlertsSettings)
