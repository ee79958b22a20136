"""Public commands against the emulator: /start, /help, /whoami, /subscribe, unknown ones."""

from __future__ import annotations

from daemon.emulator.client import BotControl
from tests.commands.conftest import ADMIN, USER, ask
from tests.support.processes import DaemonProcess


def test_start_greets_then_welcomes_back(bot: BotControl, daemon: DaemonProcess) -> None:
    assert ask(bot, USER, "/start").startswith(f"Hello User{USER}!")
    assert ask(bot, USER, "/start").startswith(f"Welcome back, User{USER}.")
    assert daemon.query("SELECT starts FROM known_chat WHERE chat_id = ?", USER) == [(2,)]


def test_help_lists_only_what_the_caller_may_run(bot: BotControl, daemon: DaemonProcess) -> None:
    public = ask(bot, USER, "/help")
    assert "/start" in public
    assert "/help" in public
    assert "/status" not in public
    assert "/status — uptime, mode, offset" in ask(bot, ADMIN, "/help")


def test_unknown_command_points_to_help(bot: BotControl, daemon: DaemonProcess) -> None:
    assert ask(bot, USER, "/frobnicate now") == "Unknown command — see /help."


def test_user_supplied_names_are_html_escaped(bot: BotControl, daemon: DaemonProcess) -> None:
    """A first name with markup is shown as text, not parsed (the emulator's HTML parser
    would reject an unclosed tag with 400)."""
    bot.create_user(803, first_name="<b>Mallory")
    assert ask(bot, 803, "/start").startswith("Hello <b>Mallory!")


def test_whoami_tells_id_and_role(bot: BotControl, daemon: DaemonProcess) -> None:
    assert ask(bot, USER, "/whoami") == f"id — {USER}\nrole — user"
    assert ask(bot, ADMIN, "/whoami") == f"id — {ADMIN}\nrole — admin (ADMIN_IDS)"


def test_subscribe_and_unsubscribe_are_idempotent(bot: BotControl, daemon: DaemonProcess) -> None:
    assert ask(bot, USER, "/subscribe").startswith("Subscribed: this chat will receive broadcasts")
    assert ask(bot, USER, "/subscribe") == "This chat is subscribed already."
    assert daemon.query("SELECT chat_id FROM subscriber") == [(USER,)]
    assert ask(bot, USER, "/unsubscribe") == "Unsubscribed: no more broadcasts here."
    assert ask(bot, USER, "/unsubscribe") == "This chat was not subscribed."
    assert daemon.query("SELECT chat_id FROM subscriber") == []
