"""Public commands against the emulator: /start, /help, /whoami, /subscribe, unknown ones."""

from __future__ import annotations

from pathlib import Path

from daemon.emulator.client import BotControl
from tests.commands.conftest import ADMIN, USER, ask
from tests.support.commands import make_harness
from tests.support.processes import DaemonProcess


def test_start_greets_then_welcomes_back(bot: BotControl, daemon: DaemonProcess) -> None:
    assert ask(bot, USER, "/start").startswith(f"Hello User{USER}!")
    assert ask(bot, USER, "/start").startswith(f"Welcome back, User{USER}.")
    assert daemon.query("SELECT starts FROM known_chat WHERE chat_id = ?", USER) == [(2,)]


async def test_help_lists_only_what_the_caller_may_run(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, admin_ids=str(ADMIN))
    public = harness.text(await harness.run("/help", user_id=USER))
    assert "/start — say hello and register this chat" in public
    assert "/status" not in public
    assert "/status — uptime, mode, offset" in harness.text(await harness.run("/help", ADMIN))


def test_unknown_command_points_to_help(bot: BotControl, daemon: DaemonProcess) -> None:
    assert ask(bot, USER, "/frobnicate now") == "Unknown command — see /help."


def test_user_supplied_names_are_html_escaped(bot: BotControl, daemon: DaemonProcess) -> None:
    """A first name with markup is shown as text, not parsed (the emulator's HTML parser
    would reject an unclosed tag with 400)."""
    bot.create_user(803, first_name="<b>Mallory")
    assert ask(bot, 803, "/start").startswith("Hello <b>Mallory!")


async def test_whoami_tells_id_and_role(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, admin_ids=str(ADMIN))
    assert harness.text(await harness.run("/whoami", USER)) == f"id — {USER}\nrole — user"
    assert harness.text(await harness.run("/whoami", ADMIN)) == (
        f"id — {ADMIN}\nrole — admin (ADMIN_IDS)"
    )


async def test_subscribe_and_unsubscribe_are_idempotent(tmp_path: Path) -> None:
    harness = make_harness(tmp_path)

    async def ask_in_process(text: str) -> str:
        return harness.text(await harness.run(text, USER))

    assert (await ask_in_process("/subscribe")).startswith(
        "Subscribed: this chat will receive broadcasts"
    )
    assert await ask_in_process("/subscribe") == "This chat is subscribed already."
    assert harness.query("SELECT chat_id FROM subscriber") == [(USER,)]
    assert await ask_in_process("/unsubscribe") == "Unsubscribed: no more broadcasts here."
    assert await ask_in_process("/unsubscribe") == "This chat was not subscribed."
    assert harness.query("SELECT chat_id FROM subscriber") == []


def test_subscribe_end_to_end(bot: BotControl, daemon: DaemonProcess) -> None:
    """One pass through the emulator: the reply reaches the chat and the row is stored."""
    assert ask(bot, USER, "/subscribe").startswith("Subscribed: this chat will receive broadcasts")
    assert daemon.query("SELECT chat_id FROM subscriber") == [(USER,)]


def test_help_and_whoami_end_to_end(bot: BotControl, daemon: DaemonProcess) -> None:
    """One pass each through the emulator: what the admin sees, escaped and delivered."""
    assert "/status — uptime, mode, offset" in ask(bot, ADMIN, "/help")
    assert ask(bot, ADMIN, "/whoami") == f"id — {ADMIN}\nrole — admin (ADMIN_IDS)"
