"""Authorization matrix: every admin command and every button, pressed by a non-admin,
is refused, logged with the user id, and changes nothing. Forged and stale buttons are
refused to everyone. The matrix is read from the registry, so a new admin command or
button fails here until it is covered."""

from __future__ import annotations

import time

from daemon.commands.catalogue import build_registry
from daemon.commands.registry import Role
from daemon.emulator.client import BotControl
from daemon.telegram import buttons
from tests.commands.conftest import ADMIN, USER, ask, ask_full, button_data, press, table_contents
from tests.support.processes import DaemonProcess

INVOCATIONS = {
    "status": "/status",
    "health": "/health",
    "logs": "/logs 5",
    "config": "/config",
    "admins": f"/admins add {USER}",
    "broadcast": "/broadcast hello everyone",
    "digest": "/digest",
    "buy": "/buy BTC/USDT 0.1",
    "sell": "/sell BTC/USDT all",
    "portfolio": "/portfolio",
    "pnl": "/pnl",
    "ledger": "/ledger",
    "autosell": "/autosell BTC/USDT sl=-5%",
    "pause": "/pause",
    "resume": "/resume",
    "routes": "/routes",
    "mute": "/mute severity=info 1h",
    "unmute": "/unmute 1",
}


def test_every_admin_command_is_refused_to_a_non_admin(
    bot: BotControl, daemon: DaemonProcess
) -> None:
    admin_commands = [c.name for c in build_registry() if c.role is Role.ADMIN]
    assert set(admin_commands) == set(INVOCATIONS), "cover every admin command here"
    ask(bot, 820, "/subscribe")  # so a broadcast would have someone to reach
    before = table_contents(daemon)
    for name in admin_commands:
        assert ask(bot, USER, INVOCATIONS[name]) == "This command is for admins only.", name
        daemon.wait_for_log(f"WARNING  refused /{name} from user {USER}: not an admin")
    assert table_contents(daemon) == before
    assert len(bot.sent(chat_id=820)) == 1  # only its /subscribe reply


def test_every_admin_button_is_refused_to_a_non_admin(
    bot: BotControl, daemon: DaemonProcess
) -> None:
    """An admin asks; a user who is not an admin presses the genuine buttons of that
    reply (as a modified client could)."""
    ask(bot, 820, "/subscribe")
    confirm = ask_full(bot, ADMIN, "/broadcast hello desk")
    on_message = {data.split(":", 1)[0]: data for data in button_data(confirm)}
    admin_buttons = [b.name for b in build_registry().buttons() if b.role is Role.ADMIN]
    assert set(admin_buttons) == set(on_message), "cover every admin button here"
    before = table_contents(daemon)
    for action in admin_buttons:
        answer = press(bot, USER, confirm, on_message[action])
        assert answer == "This button is for admins only.", action
        daemon.wait_for_log(f"WARNING  refused button {action} from user {USER}: not an admin")
    assert table_contents(daemon) == before
    assert daemon.query("SELECT state FROM broadcast") == [("pending",)]
    assert len(bot.sent(chat_id=820)) == 1


def test_forged_and_stale_buttons_are_refused_even_to_an_admin(
    bot: BotControl, daemon: DaemonProcess
) -> None:
    ask(bot, 820, "/subscribe")
    confirm = ask_full(bot, ADMIN, "/broadcast hello")
    before = table_contents(daemon)
    forged = "bcast.send:1:ffffffff:AAAAAAAAAAAA"
    assert press(bot, ADMIN, confirm, forged, forge=True) == "This button is no longer valid."
    daemon.wait_for_log(f"WARNING  refused a forged button from user {ADMIN}")
    # A non-ASCII MAC is forgery too, not a traceback and "Something went wrong".
    non_ascii = "bcast.send:1:ffffffff:ÄÄÄÄÄÄÄÄÄÄÄÄ"
    assert press(bot, ADMIN, confirm, non_ascii, forge=True) == "This button is no longer valid."
    daemon.wait_for_log(f"WARNING  refused a forged button from user {ADMIN}", count=2)
    (key,) = daemon.query("SELECT value FROM key_value WHERE key = 'buttons.key'")[0]
    stale = buttons.sign(bytes.fromhex(str(key)), "bcast.send", "1", now=time.time() - 120)
    assert press(bot, ADMIN, confirm, stale, forge=True) == "This button is no longer valid."
    daemon.wait_for_log(f"WARNING  refused a stale button from user {ADMIN}")
    assert table_contents(daemon) == before
    assert daemon.query("SELECT state FROM broadcast") == [("pending",)]
