"""Which command menu a user sees in a chat: Telegram's scope order, over what
setMyCommands stored. Pure.

Telegram picks the first scope that has commands, most specific first: for a private
chat `chat` → `all_private_chats` → `default`; in a group `chat_member` →
`chat_administrators` (if an admin) → `chat` → `all_chat_administrators` (if an admin)
→ `all_group_chats` → `default`. Within a scope, the user's language before no language.
"""

from __future__ import annotations

from collections.abc import Mapping

Commands = list[dict[str, str]]


def scope_order(user_id: int, chat_id: int, is_group: bool, is_admin: bool) -> list[str]:
    if not is_group:
        return [f"chat:{chat_id}", "all_private_chats", "default"]
    order = [f"chat_member:{chat_id}:{user_id}"]
    if is_admin:
        order.append(f"chat_administrators:{chat_id}")
    order.append(f"chat:{chat_id}")
    if is_admin:
        order.append("all_chat_administrators")
    return [*order, "all_group_chats", "default"]


def menu_for(
    stored: Mapping[tuple[str, str], Commands],
    user_id: int,
    chat_id: int,
    is_group: bool,
    language: str | None = None,
    is_admin: bool = False,
) -> Commands:
    for scope in scope_order(user_id, chat_id, is_group, is_admin):
        for lang in ([language] if language else []) + [""]:
            commands = stored.get((scope, lang))
            if commands:
                return list(commands)
    return []
