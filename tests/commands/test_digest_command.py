"""Admin /digest: the same digest the timer sends, as a preview that is not recorded."""

from __future__ import annotations

from daemon.commands.catalogue import build_registry
from daemon.commands.registry import Role
from daemon.emulator.client import BotControl
from tests.commands.conftest import ADMIN, ask
from tests.support.processes import DaemonProcess


def test_digest_preview_counts_the_admin_commands_and_records_nothing(
    bot: BotControl, daemon: DaemonProcess
) -> None:
    ask(bot, ADMIN, "/start")  # the admin's chat exists: the admin menu can be published
    daemon.wait_for_log(r"\[hb\] alive", count=2)  # a heartbeat was stored
    text = ask(bot, ADMIN, "/digest")
    admin_commands = [c for c in build_registry() if c.role is Role.ADMIN]
    assert text.startswith("Preview: tradebotd daily digest ")
    assert "daemon up: last heartbeat " in text
    assert f"{len(admin_commands)}/18 admin commands registered and answering\n" in text + "\n"
    assert daemon.query("SELECT count(*) FROM digest_run") == [(0,)]
