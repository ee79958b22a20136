"""Admin /admins: runtime admins beside ADMIN_IDS, with the guards an operator expects."""

from __future__ import annotations

from pathlib import Path

from daemon.emulator.client import BotControl
from tests.commands.conftest import ADMIN, USER, ask
from tests.support.commands import make_harness
from tests.support.processes import DaemonProcess


def test_add_list_and_remove_a_runtime_admin(bot: BotControl, daemon: DaemonProcess) -> None:
    assert ask(bot, USER, "/status") == "This command is for admins only."
    assert ask(bot, ADMIN, f"/admins add {USER}") == f"{USER} is now an admin."
    assert ask(bot, ADMIN, "/admins") == f"Admins\n{ADMIN} — ADMIN_IDS\n{USER} — runtime"
    assert ask(bot, USER, "/status").startswith("tradebotd ")
    assert ask(bot, USER, "/whoami").endswith("role — admin (added at runtime)")
    assert ask(bot, ADMIN, f"/admins del {USER}") == f"{USER} is no longer an admin."
    assert ask(bot, USER, "/status") == "This command is for admins only."
    assert daemon.query("SELECT count(*) FROM runtime_admin") == [(0,)]


async def test_bad_input_gets_a_reason_and_changes_nothing(tmp_path: Path) -> None:
    """In process (tests/support/commands.py): every refusal, and nothing written."""
    harness = make_harness(tmp_path, admin_ids=str(ADMIN))
    usage = "Usage: /admins [list | add ID | del ID]"

    async def ask_in_process(text: str) -> str:
        return harness.text(await harness.run(text, user_id=ADMIN))

    assert await ask_in_process("/admins promote 5") == usage
    assert await ask_in_process("/admins add bob") == f"'bob' is not a Telegram user id.\n{usage}"
    assert await ask_in_process("/admins add 0") == f"'0' is not a Telegram user id.\n{usage}"
    assert await ask_in_process("/admins add 4²") == f"'4²' is not a Telegram user id.\n{usage}"
    assert await ask_in_process("/admins add 12345678901234567") == (
        f"'12345678901234567' is not a Telegram user id.\n{usage}"
    )
    # Ids Telegram shares between many people are never admins.
    assert await ask_in_process("/admins add 777000") == (
        "777000 is Telegram's service notifications: a shared id, never an admin. "
        "Add the person's own user id (they can get it with /whoami)."
    )
    for shared in (1087968824, 136817688):
        assert "a shared id, never an admin" in await ask_in_process(f"/admins add {shared}")
    assert await ask_in_process(f"/admins add {ADMIN}") == f"{ADMIN} is an admin already."
    assert await ask_in_process(f"/admins del {USER}") == f"{USER} is not an admin."
    assert await ask_in_process(f"/admins del {ADMIN}") == (
        f"{ADMIN} is in ADMIN_IDS: remove it from the env file and restart."
    )
    assert harness.query("SELECT count(*) FROM runtime_admin") == [(0,)]
    assert harness.menus_changes == []


async def test_the_last_admin_cannot_be_removed(tmp_path: Path) -> None:
    """ADMIN_IDS emptied after a runtime admin was added: that admin is the last one."""
    first = make_harness(tmp_path, admin_ids=str(ADMIN))
    assert first.text(await first.run(f"/admins add {USER}", user_id=ADMIN)) == (
        f"{USER} is now an admin."
    )
    assert first.menus_changes == [1]
    first.store.close()
    second = make_harness(tmp_path, admin_ids="")
    assert second.text(await second.run(f"/admins del {USER}", user_id=USER)) == (
        "Cannot remove the last admin."
    )
    assert second.text(await second.run("/admins", user_id=USER)) == f"Admins\n{USER} — runtime"


def test_admin_commands_typed_in_a_group_answer_in_private(
    bot: BotControl, daemon: DaemonProcess
) -> None:
    """/config, /logs, /status typed in a group are not shown to every member: the answer
    goes to the admin's private chat; without one, the group only learns to open it."""
    group = bot.create_group("Desk")["id"]
    assert ask(bot, ADMIN, "/config", chat_id=group) == (
        "Admin commands answer in private: open a private chat with me first "
        "(press Start there), then ask again."
    )
    assert daemon.query("SELECT count(*) FROM command_count WHERE command = 'config'") == [(0,)]
    ask(bot, ADMIN, "/start")
    in_group = len(bot.sent(chat_id=group))
    private = len(bot.sent(chat_id=ADMIN))
    bot.send_text(from_user=ADMIN, text="/status", chat_id=group)
    reply = bot.wait_for_sent(chat_id=ADMIN, count=private + 1)[private]
    assert reply["text"].startswith("tradebotd ")
    # Whatever the group got by now is all it gets: the next update is answered after it.
    assert ask(bot, USER, "/whoami", chat_id=group)
    assert len(bot.sent(chat_id=group)) == in_group + 1
