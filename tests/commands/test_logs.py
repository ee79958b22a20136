"""Admin /logs: recent redacted lines from memory, filtered, as a document when long."""

from __future__ import annotations

import re
from pathlib import Path

from daemon.emulator.client import BotControl
from tests.commands.conftest import ADMIN, USER, ask, ask_full
from tests.support.commands import make_harness
from tests.support.processes import DaemonProcess


def test_logs_shows_recent_lines_with_time_and_level(
    bot: BotControl, daemon: DaemonProcess
) -> None:
    daemon.wait_for_log(r"\[hb\] alive", count=3)  # enough lines in memory
    text = ask(bot, ADMIN, "/logs 5")
    lines = text.split("\n")
    assert lines[0] == "Last 5 log lines at TRACE or above"
    assert len(lines) == 6
    assert all(line[:4].isdigit() and line[19] == " " for line in lines[1:])


def test_logs_filters_by_level_and_never_shows_the_token(
    bot: BotControl, daemon: DaemonProcess
) -> None:
    ask(bot, USER, "/status")  # a refusal: one WARNING line
    text = ask(bot, ADMIN, "/logs 50 warning")
    body = text.split("\n")[1:]
    assert any(f"refused /status from user {USER}" in line for line in body)
    assert all(" WARNING " in line or " ERROR " in line for line in body)
    assert bot.token.split(":", 1)[1] not in ask(bot, ADMIN, "/logs 200")


def test_long_logs_come_as_a_document(bot: BotControl, daemon: DaemonProcess) -> None:
    for _ in range(60):
        bot.send_text(from_user=USER, text="/config")
    daemon.wait_for_log(f"refused /config from user {USER}", count=60)
    message = ask_full(bot, ADMIN, "/logs 200 warning")
    assert re.fullmatch(r"Last \d+ log lines at WARNING or above", message["caption"])
    content = bot.file(message["document"]["file_id"]).decode()
    assert content.count(f"refused /config from user {USER}") == 60
    assert message["document"]["file_name"] == "tradebotd-logs.txt"


async def test_bad_arguments_get_the_usage(tmp_path: Path) -> None:
    """In process: every refusal names what is wrong (Unicode digits included)."""
    harness = make_harness(tmp_path, admin_ids=str(ADMIN))

    async def ask_in_process(text: str) -> str:
        return harness.text(await harness.run(text, ADMIN))

    usage = "Usage: /logs [N 1-200, default 20] [level: trace | debug | info | success | "
    assert (await ask_in_process("/logs 0")).startswith(
        "N must be between 1 and 200, got 0.\n" + usage
    )
    assert (await ask_in_process("/logs 500")).startswith("N must be between 1 and 200, got 500.")
    assert (await ask_in_process("/logs 5 loud")).startswith("Unknown level 'loud'.\n" + usage)
    assert (await ask_in_process("/logs 5 info extra")).startswith(usage)
    # '²' passes str.isdigit(); it is read as a (wrong) level, never as a number.
    assert (await ask_in_process("/logs ²")).startswith("Unknown level '²'.\n" + usage)
