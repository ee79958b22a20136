"""The core commands against the emulator: /start, /help, admin /status, unknown commands."""

from __future__ import annotations

import pytest

from daemon.emulator.client import BotControl
from tests.processes import DaemonProcess, Launch

ADMIN, USER = 801, 802


@pytest.fixture
def daemon(bot: BotControl, launch: Launch) -> DaemonProcess:
    bot.set_flood(enabled=False)
    return launch(admin_ids=str(ADMIN))


def ask(bot: BotControl, user: int, text: str) -> str:
    before = len(bot.sent(chat_id=user))
    bot.send_text(from_user=user, text=text)
    return bot.wait_for_sent(chat_id=user, count=before + 1)[-1]["text"]


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


def test_status_for_an_admin_reports_the_loop(bot: BotControl, daemon: DaemonProcess) -> None:
    text = ask(bot, ADMIN, "/status")
    assert text.startswith("tradebotd 0.1.0")
    for row in ("uptime — ", "mode — polling", "offset — ", "last poll — ", "conflicts — 0"):
        assert row in text


def test_status_is_refused_to_others_logged_and_changes_nothing(
    bot: BotControl, daemon: DaemonProcess
) -> None:
    assert ask(bot, USER, "/status") == "This command is for admins only."
    daemon.wait_for_log(f"WARNING  refused /status from user {USER}: not an admin")
    assert daemon.query("SELECT count(*) FROM command_count WHERE command = 'status'") == [(0,)]


def test_unknown_command_points_to_help(bot: BotControl, daemon: DaemonProcess) -> None:
    assert ask(bot, USER, "/frobnicate now") == "Unknown command — see /help."


def test_user_supplied_names_are_html_escaped(bot: BotControl, daemon: DaemonProcess) -> None:
    """A first name with markup is shown as text, not parsed (the emulator's HTML parser
    would reject an unclosed tag with 400)."""
    bot.create_user(803, first_name="<b>Mallory")
    assert ask(bot, 803, "/start").startswith("Hello <b>Mallory!")
