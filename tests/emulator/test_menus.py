"""Which command menu a user sees: Telegram's scope order, most specific first."""

from __future__ import annotations

import pytest

from daemon.emulator.menus import menu_for

PUBLIC = [{"command": "start", "description": "hello"}]
ADMIN = [*PUBLIC, {"command": "status", "description": "how it runs"}]
GROUPS = [{"command": "price", "description": "a price"}]


@pytest.mark.parametrize(
    ("stored", "user", "chat", "is_group", "language", "expected"),
    [
        # The admin's own chat scope wins over the default, for that chat only.
        ({("default", ""): PUBLIC, ("chat:42", ""): ADMIN}, 42, 42, False, None, ADMIN),
        ({("default", ""): PUBLIC, ("chat:42", ""): ADMIN}, 43, 43, False, None, PUBLIC),
        # all_private_chats before default in private; all_group_chats in groups.
        ({("default", ""): PUBLIC, ("all_private_chats", ""): ADMIN}, 43, 43, False, None, ADMIN),
        ({("default", ""): PUBLIC, ("all_group_chats", ""): GROUPS}, 43, -5, True, None, GROUPS),
        ({("default", ""): PUBLIC, ("all_group_chats", ""): GROUPS}, 43, 43, False, None, PUBLIC),
        # A member's scope in a group, before the group's own.
        ({("chat:-5", ""): GROUPS, ("chat_member:-5:43", ""): ADMIN}, 43, -5, True, None, ADMIN),
        ({("chat:-5", ""): GROUPS, ("chat_member:-5:43", ""): ADMIN}, 44, -5, True, None, GROUPS),
        # The user's language first, then no language; an empty list is "not set".
        ({("default", ""): PUBLIC, ("default", "de"): ADMIN}, 43, 43, False, "de", ADMIN),
        ({("default", ""): PUBLIC, ("default", "de"): ADMIN}, 43, 43, False, "fr", PUBLIC),
        ({("default", ""): PUBLIC, ("chat:43", ""): []}, 43, 43, False, None, PUBLIC),
        ({}, 43, 43, False, None, []),
    ],
)
def test_the_first_scope_with_commands_is_the_menu(
    stored: dict[tuple[str, str], list[dict[str, str]]],
    user: int,
    chat: int,
    is_group: bool,
    language: str | None,
    expected: list[dict[str, str]],
) -> None:
    assert menu_for(stored, user, chat, is_group, language) == expected


def test_administrator_scopes_apply_to_admins_only() -> None:
    stored = {("all_chat_administrators", ""): ADMIN, ("default", ""): PUBLIC}
    assert menu_for(stored, 43, -5, True, is_admin=True) == ADMIN
    assert menu_for(stored, 43, -5, True, is_admin=False) == PUBLIC
