"""Admin /admins [list | add ID | del ID]: runtime admins beside ADMIN_IDS."""

from __future__ import annotations

from daemon.commands.registry import Command, CommandCall, CommandError, Registry, Role, Services
from daemon.numbers import ascii_int
from daemon.reply import Reply
from daemon.store import admins as store

USAGE = "[list | add ID | del ID]"
# Telegram user ids have at most 52 significant bits (up to 16 digits).
MAX_USER_ID = 2**52 - 1
# Ids Telegram shares between many people: never an admin.
SHARED_IDS = {
    1087968824: "GroupAnonymousBot, which every anonymous group admin posts as",
    136817688: "Channel_Bot, which every channel posting in a group appears as",
    777000: "Telegram's service notifications",
}


def _user_id(text: str) -> int:
    user_id = ascii_int(text, 1, MAX_USER_ID)
    if user_id is None:
        raise CommandError(f"{text!r} is not a Telegram user id.\nUsage: /admins {USAGE}")
    return user_id


def _listing(services: Services) -> Reply:
    env = services.env_admins()
    rows = [(str(a), "ADMIN_IDS" if a in env else "runtime") for a in services.all_admins()]
    return Reply(title="Admins", rows=tuple(rows) or (("(none)", ""),))


async def admins_command(call: CommandCall, services: Services) -> Reply:
    args = call.args
    if not args or args == ("list",):
        return _listing(services)
    if len(args) != 2 or args[0] not in ("add", "del"):
        raise CommandError(f"Usage: /admins {USAGE}")
    user_id = _user_id(args[1])
    if args[0] == "add":
        if user_id in SHARED_IDS:
            raise CommandError(
                f"{user_id} is {SHARED_IDS[user_id]}: a shared id, never an admin. "
                "Add the person's own user id (they can get it with /whoami)."
            )
        if services.is_admin(user_id):
            raise CommandError(f"{user_id} is an admin already.")
        store.add(user_id, call.user_id, call.now)
        services.menus_changed()
        return Reply(lines=(f"{user_id} is now an admin.",))
    if user_id in services.env_admins():
        raise CommandError(f"{user_id} is in ADMIN_IDS: remove it from the env file and restart.")
    if not store.is_runtime_admin(user_id):
        raise CommandError(f"{user_id} is not an admin.")
    if len(services.all_admins()) == 1:
        raise CommandError("Cannot remove the last admin.")
    store.remove(user_id)
    services.menus_changed()
    return Reply(lines=(f"{user_id} is no longer an admin.",))


def register(registry: Registry) -> None:
    registry.add(
        Command(
            "admins",
            Role.ADMIN,
            USAGE,
            "list, add or remove runtime admins",
            admins_command,
            "ops",
            self_check=lambda settings: store.runtime_admins(),
        )
    )
