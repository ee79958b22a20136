"""The one catalogue of commands: it drives the handlers, /help and the menus."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from daemon.config import Settings
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


@dataclass(frozen=True)
class Reply:
    """Plain data; the transport escapes and formats it."""

    title: str = ""
    lines: tuple[str, ...] = ()
    rows: tuple[tuple[str, str], ...] = ()


@dataclass
class Services:
    """What commands may use; the clock and settings are injected so tests control them."""

    vitals: Vitals
    settings: Callable[[], Settings]
    registry: Registry
    monotonic: Callable[[], float]


Handler = Callable[[CommandCall, Services], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    name: str
    role: Role
    usage: str
    description: str
    handler: Handler


@dataclass
class Registry:
    _commands: dict[str, Command] = field(default_factory=dict)

    def add(self, command: Command) -> None:
        if command.name in self._commands:
            raise ValueError(f"command /{command.name} is registered twice")
        self._commands[command.name] = command

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands.values())

    def visible_to(self, is_admin: bool) -> list[Command]:
        return [c for c in self if is_admin or c.role is Role.PUBLIC]
