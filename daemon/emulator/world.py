"""The state Telegram keeps for one bot: who wrote to it, what it sent, its update queue."""

from __future__ import annotations

import itertools
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from daemon.emulator.errors import BLOCKED_BY_USER, CHAT_NOT_FOUND, ApiError, bad_request

DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
ALL_UPDATE_TYPES = DEFAULT_UPDATE_TYPES | {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}


@dataclass
class User:
    id: int
    first_name: str
    username: str | None = None
    is_bot: bool = False
    language_code: str | None = None

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class Chat:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    first_name: str | None = None
    username: str | None = None

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "username"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data


@dataclass
class Message:
    """A message in a chat, as the Bot API renders it."""

    message_id: int
    chat: Chat
    sender: User
    date: int
    content: dict[str, Any]  # text/entities, photo/caption, document …
    reply_markup: dict[str, Any] | None = None
    edit_date: int | None = None
    deleted: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender.to_api(),
            "chat": self.chat.to_api(),
            "date": self.date,
            **self.content,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.reply_markup:
            data["reply_markup"] = self.reply_markup
        return data

    def callback_data(self) -> set[str]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return {b["callback_data"] for row in rows for b in row if "callback_data" in b}


@dataclass
class Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None

    def to_api(self, pending: int) -> dict[str, Any]:
        data: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
            "max_connections": self.max_connections,
        }
        if self.last_error_date is not None:
            data["last_error_date"] = self.last_error_date
            data["last_error_message"] = self.last_error_message
        if self.allowed_updates is not None:
            data["allowed_updates"] = self.allowed_updates
        return data


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    filename: str | None
    mime_type: str | None


@dataclass
class CallbackQuery:
    id: str
    created_at: float
    answered: bool = False
    answer: dict[str, Any] | None = None


def new_token_secret() -> str:
    return secrets.token_urlsafe(26)[:35]


CHANGE_HISTORY = 5000  # what a web chat opened late can still replay


@dataclass(frozen=True)
class Change:
    """One thing a watcher of the chats would see: a message, an edit, a deletion, a
    callback answer (the toast), a new command menu. Numbered in order."""

    seq: int
    kind: str  # message | edit | delete | answer | commands
    data: dict[str, Any]


@dataclass
class BotWorld:
    """Everything one bot token owns. Not thread-safe: one event loop drives it."""

    token: str
    me: User
    clock: Callable[[], float] = time.time
    users: dict[int, User] = field(default_factory=dict)
    chats: dict[int, Chat] = field(default_factory=dict)
    messages: dict[tuple[int, int], Message] = field(default_factory=dict)
    sent_log: list[Message] = field(default_factory=list)
    updates: deque[dict[str, Any]] = field(default_factory=deque)
    allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
    webhook: Webhook | None = None
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    callback_queries: dict[str, CallbackQuery] = field(default_factory=dict)
    _next_update_id: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _last_update_id: int = 0
    _next_message_id: dict[int, int] = field(default_factory=dict)
    _next_callback: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    on_update: list[Callable[[], None]] = field(default_factory=list)
    blocked_by: set[int] = field(default_factory=set)  # users who blocked the bot
    changes: deque[Change] = field(default_factory=lambda: deque(maxlen=CHANGE_HISTORY))
    on_change: list[Callable[[], None]] = field(default_factory=list)
    _change_seq: int = 0

    # -- what watchers see --------------------------------------------------------------
    def record(self, kind: str, data: dict[str, Any]) -> None:
        self._change_seq += 1
        self.changes.append(Change(self._change_seq, kind, data))
        for listener in self.on_change:
            listener()

    def changes_after(self, seq: int) -> list[Change]:
        if not self.changes:
            return []
        # The log holds consecutive numbers: the first wanted is found by arithmetic.
        skip = max(0, seq + 1 - self.changes[0].seq)
        return list(itertools.islice(self.changes, skip, None))

    # -- people and chats -------------------------------------------------------------
    def add_user(self, user: User) -> User:
        self.users[user.id] = user
        return user

    def add_chat(self, chat: Chat) -> Chat:
        self.chats[chat.id] = chat
        return chat

    def private_chat(self, user: User) -> Chat:
        return self.chats.setdefault(
            user.id, Chat(user.id, "private", first_name=user.first_name, username=user.username)
        )

    def known_chat(self, chat_id: int) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request(CHAT_NOT_FOUND)
        return chat

    def reachable_chat(self, chat_id: int) -> Chat:
        """A chat the bot may send to: a user who blocked the bot answers 403."""
        chat = self.known_chat(chat_id)
        if chat.type == "private" and chat.id in self.blocked_by:
            raise ApiError(403, BLOCKED_BY_USER)
        return chat

    def set_blocked(self, user: User, blocked: bool, notify: bool) -> dict[str, Any] | None:
        """The user blocks (or unblocks) the bot; with `notify`, the my_chat_member
        update Telegram sends the bot for it is queued (None if nothing changed)."""
        was = user.id in self.blocked_by
        if blocked:
            self.blocked_by.add(user.id)
        else:
            self.blocked_by.discard(user.id)
        if was == blocked or not notify:
            return None
        chat = self.private_chat(user)
        member = {"user": self.me.to_api(), "status": "member"}
        kicked = {"user": self.me.to_api(), "status": "kicked", "until_date": 0}
        old, new = (member, kicked) if blocked else (kicked, member)
        return self.enqueue(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": user.to_api(),
                "date": self.now(),
                "old_chat_member": old,
                "new_chat_member": new,
            },
        )

    # -- messages -----------------------------------------------------------------------
    def now(self) -> int:
        return int(self.clock())

    def new_message(
        self,
        chat: Chat,
        sender: User,
        content: dict[str, Any],
        reply_markup: dict[str, Any] | None = None,
    ) -> Message:
        message_id = self._next_message_id.get(chat.id, 1)
        self._next_message_id[chat.id] = message_id + 1
        message = Message(message_id, chat, sender, self.now(), content, reply_markup)
        self.messages[(chat.id, message_id)] = message
        if sender.id == self.me.id:
            self.sent_log.append(message)
        self.record("message", message.to_api())
        return message

    def find_message(self, chat_id: int, message_id: int, purpose: str) -> Message:
        message = self.messages.get((chat_id, message_id))
        if message is None or message.deleted:
            raise bad_request(f"message to {purpose} not found")
        return message

    def store_file(self, data: bytes, filename: str | None, mime_type: str | None) -> StoredFile:
        unique = secrets.token_urlsafe(12)
        stored = StoredFile(f"EMU{self.me.id}_{unique}", unique, data, filename, mime_type)
        self.files[stored.file_id] = stored
        return stored

    # -- updates ------------------------------------------------------------------------
    def set_allowed_updates(self, requested: list[str] | None) -> None:
        """None keeps the current filter; an empty list restores the default, as on Telegram."""
        if requested is None:
            return
        wanted = frozenset(requested) & ALL_UPDATE_TYPES
        self.allowed_updates = wanted or DEFAULT_UPDATE_TYPES

    def enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update, unless the bot's allowed_updates filter drops it (then None)."""
        if kind not in self.allowed_updates:
            return None
        update_id = next(self._next_update_id)
        self._last_update_id = update_id
        update = {"update_id": update_id, kind: payload}
        self.updates.append(update)
        for listener in self.on_update:
            listener()
        return update

    def restart_update_ids(self, next_id: int) -> None:
        """What Telegram does after a week without updates: the next update_id is chosen
        afresh (here: `next_id`, which may be lower than any id handed out before)."""
        self._next_update_id = itertools.count(next_id)
        self._last_update_id = next_id - 1

    def confirm(self, offset: int) -> None:
        """getUpdates' offset: forget what is below it; a negative one keeps the last -offset.

        An offset beyond the last id handed out confirms nothing: it belongs to a sequence
        that has restarted (a client still using the old one keeps getting the new
        updates until its offset follows them)."""
        if offset > self._last_update_id + 1:
            return
        if offset > 0:
            while self.updates and self.updates[0]["update_id"] < offset:
                self.updates.popleft()
        elif offset < 0:
            while len(self.updates) > -offset:
                self.updates.popleft()

    def take(self, limit: int) -> list[dict[str, Any]]:
        return list(itertools.islice(self.updates, limit))

    def drop_pending(self) -> None:
        self.updates.clear()

    def new_callback_query(self) -> CallbackQuery:
        query = CallbackQuery(f"{self.me.id}{next(self._next_callback):08d}", self.clock())
        self.callback_queries[query.id] = query
        return query
