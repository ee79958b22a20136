"""Command menus from the registry: public commands for everyone, all for each admin.

setMyCommands with the default scope lists the public commands; each admin's private
chat (BotCommandScopeChat) lists public + admin. Published at start, on reload and after
/admins changes; an admin who never opened a chat with the bot cannot get a chat-scoped
menu (Telegram: "chat not found") and is logged, not fatal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from loguru import logger
from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from daemon.commands.registry import Registry
from daemon.notify.errors import describe
from daemon.waiting import wait_any


def menu(registry: Registry, is_admin: bool) -> list[BotCommand]:
    return [BotCommand(c.name, c.description) for c in registry.visible_to(is_admin)]


class Menus:
    def __init__(self, bot: Bot, registry: Registry, admins: Callable[[], Awaitable[list[int]]]):
        self._bot = bot
        self._registry = registry
        self._admins = admins
        self._published_to: set[int] = set()
        self._admin_count = 0
        self._changed = asyncio.Event()

    name = "menus"

    def health(self) -> str | None:
        missing = self._admin_count - len(self._published_to)
        if missing > 0:
            return (
                f"WARN: the admin menu is not set for {missing} of {self._admin_count} admins "
                "(they must open a chat with the bot first)"
            )
        return f"ok: admin menu set for {len(self._published_to)} admins"

    def facts(self) -> dict[str, int | str]:
        return {}

    def changed(self) -> None:
        """Ask for a republish (admins changed, or a reload); cheap and idempotent."""
        self._changed.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await wait_any(self._changed, stop)
            if self._changed.is_set() and not stop.is_set():
                self._changed.clear()
                await self.publish(await self._admins())

    async def publish(self, admins: list[int]) -> None:
        try:
            await self._bot.set_my_commands(menu(self._registry, is_admin=False))
        except TelegramError as exc:
            logger.warning("setMyCommands (default scope) failed: {}", describe(exc))
        published = set()
        for admin in admins:
            try:
                await self._bot.set_my_commands(
                    menu(self._registry, is_admin=True), scope=BotCommandScopeChat(admin)
                )
                published.add(admin)
            except TelegramError as exc:
                logger.warning(
                    "admin menu for {} not set ({}): they must open a chat with the bot first",
                    admin,
                    describe(exc),
                )
        for former in self._published_to - set(admins):
            try:
                await self._bot.delete_my_commands(scope=BotCommandScopeChat(former))
            except TelegramError as exc:
                logger.warning("admin menu for {} not removed: {}", former, describe(exc))
        self._published_to = published
        self._admin_count = len(admins)

    def published_admin_menu(self) -> tuple[str, ...] | None:
        """The admin menu as last set for at least one admin; None if for none yet."""
        if not self._published_to:
            return None
        return tuple(c.command for c in menu(self._registry, is_admin=True))
