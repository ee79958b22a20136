"""The one catalogue of commands and buttons: it drives the handlers, /help and the menus."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from daemon.reply import Reply
from daemon.store import admins

if TYPE_CHECKING:
    from daemon.alerts.price_watcher import PriceAlerts
    from daemon.alerts.router import AlertRouter
    from daemon.autosell.engine import AutoSell
    from daemon.config import Settings
    from daemon.logs import RingBuffer
    from daemon.trading.desk import PaperDesk
    from daemon.vitals import Vitals


class CommandError(Exception):
    """A command refused its input or could not run; str() is shown to the user."""


class Role(enum.Enum):
    PUBLIC = "public"
    ADMIN = "admin"


@dataclass(frozen=True)
class CommandCall:
    name: str
    args: tuple[str, ...]
    user_id: int
    user_name: str
    chat_id: int
    chat_kind: str
    is_admin: bool
    now: datetime  # UTC
    # What carried the command, unique per delivery ("update:<update_id>"): the key that
    # makes an order idempotent.
    origin: str = ""


@dataclass(frozen=True)
class ButtonCall:
    action: str
    arg: str
    user_id: int
    chat_id: int
    is_admin: bool
    now: datetime


@dataclass(frozen=True)
class ButtonResult:
    """`notice` answers the press (a short toast); `reply` replaces the message."""

    notice: str
    reply: Reply | None = None


@dataclass
class Services:
    """What commands may use. Clock, settings and environment are injected so tests and
    reloads can swap them; nothing here sends to Telegram (replies are returned)."""

    vitals: Vitals
    settings: Callable[[], Settings]
    registry: Registry
    monotonic: Callable[[], float]
    ring: RingBuffer
    watchdog_interval: float | None = None
    lock_path: Path | None = None
    watchdog_pings: Callable[[], int] = lambda: 0
    # The admin menu as last published to Telegram (None: not known), for /digest.
    published_admin_menu: Callable[[], tuple[str, ...] | None] = lambda: None
    # Called after a change to who is admin, so the command menus follow.
    menus_changed: Callable[[], None] = lambda: None
    # The running components' verdicts (/health) and facts (/status), by name.
    component_health: Callable[[], list[tuple[str, str]]] = lambda: []
    component_facts: Callable[[], list[tuple[str, str]]] = lambda: []
    # Paper trading, when [prices] lists symbols (None: not configured).
    paper: PaperDesk | None = None
    # AutoSell, with paper trading (None: not configured).
    autosell: AutoSell | None = None
    # The alert router (None outside the daemon: tests of other commands).
    alert_router: AlertRouter | None = None
    # Personal price alerts, with a price feed (None: no [[prices.symbols]]).
    price_alerts: PriceAlerts | None = None

    def env_admins(self) -> frozenset[int]:
        return self.settings().admin_ids

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.env_admins() or admins.is_runtime_admin(user_id)

    def all_admins(self) -> list[int]:
        return admins.all_admins(self.env_admins())


Handler = Callable[[CommandCall, Services], Awaitable[Reply]]
ButtonHandler = Callable[[ButtonCall, Services], Awaitable[ButtonResult]]


@dataclass(frozen=True)
class Command:
    name: str
    role: Role
    usage: str
    description: str
    handler: Handler
    group: str = "general"
    # Side-effect-free proof that the command's data path works, for the digest's
    # "N/18 registered and answering"; it may read the database, never write or send.
    self_check: Callable[[Settings], object] | None = None  # the result is ignored


@dataclass(frozen=True)
class ButtonAction:
    name: str
    role: Role
    handler: ButtonHandler


@dataclass
class Registry:
    _commands: dict[str, Command] = field(default_factory=dict)
    _buttons: dict[str, ButtonAction] = field(default_factory=dict)

    def add(self, command: Command) -> None:
        if command.name in self._commands:
            raise ValueError(f"command /{command.name} is registered twice")
        self._commands[command.name] = command

    def add_button(self, action: ButtonAction) -> None:
        if action.name in self._buttons:
            raise ValueError(f"button action {action.name!r} is registered twice")
        self._buttons[action.name] = action

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def button(self, name: str) -> ButtonAction | None:
        return self._buttons.get(name)

    def buttons(self) -> list[ButtonAction]:
        return list(self._buttons.values())

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands.values())

    def visible_to(self, is_admin: bool) -> list[Command]:
        return [c for c in self if is_admin or c.role is Role.PUBLIC]

    def usage_error(self, name: str) -> CommandError:
        command = self._commands[name]
        return CommandError(f"Usage: /{name} {command.usage}".rstrip())
