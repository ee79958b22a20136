"""Command menus: getMyCommands per scope equals the registry, and follows /admins."""

from __future__ import annotations

from typing import Any

from daemon.commands.catalogue import build_registry
from daemon.emulator.client import BotControl
from tests.commands.conftest import ADMIN, USER, ask
from tests.support.processes import Launch, wait_until


def expected(is_admin: bool) -> list[dict[str, str]]:
    return [
        {"command": c.name, "description": c.description}
        for c in build_registry().visible_to(is_admin)
    ]


def scopes(bot: BotControl) -> dict[str, Any]:
    return {entry["scope"]: entry["commands"] for entry in bot.commands()}


def test_menus_per_scope_follow_the_registry_and_the_admin_list(
    bot: BotControl, launch: Launch
) -> None:
    bot.set_flood(enabled=False)
    for user in (ADMIN, USER):  # a chat-scoped menu needs a chat with the bot
        bot.send_text(from_user=user, text="hi")
    launch(admin_ids=str(ADMIN))
    wait_until(lambda: f"chat:{ADMIN}" in scopes(bot), 10, "admin menu")
    menus = scopes(bot)
    assert menus["default"] == expected(is_admin=False)
    assert menus[f"chat:{ADMIN}"] == expected(is_admin=True)
    assert f"chat:{USER}" not in menus
    assert ask(bot, ADMIN, f"/admins add {USER}") == f"{USER} is now an admin."
    wait_until(lambda: f"chat:{USER}" in scopes(bot), 10, "the new admin's menu")
    assert scopes(bot)[f"chat:{USER}"] == expected(is_admin=True)
    ask(bot, ADMIN, f"/admins del {USER}")
    wait_until(lambda: f"chat:{USER}" not in scopes(bot), 10, "the menu removed")


def test_an_admin_who_starts_the_bot_later_gets_the_admin_menu(
    bot: BotControl, launch: Launch
) -> None:
    """At start the admin had no chat with the bot (no menu possible); /start fixes it."""
    daemon = launch(admin_ids=str(ADMIN))
    daemon.wait_for_log(f"admin menu for {ADMIN} not set")
    assert f"chat:{ADMIN}" not in scopes(bot)
    ask(bot, ADMIN, "/start")
    wait_until(lambda: f"chat:{ADMIN}" in scopes(bot), 10, "admin menu after /start")
    assert scopes(bot)[f"chat:{ADMIN}"] == expected(is_admin=True)
