"""What handlers queue for the sender: replies (split, as documents, with signed buttons),
message edits and callback answers, all written to the outbox inside the update's
transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from daemon.notify.formatting import render, split_message
from daemon.notify.replies import queue_reply
from daemon.reply import Reply
from daemon.store import outbox
from daemon.store.outbox import Priority, Receiver
from daemon.telegram import buttons


class Outgoing:
    """Queues replies in the outbox: split, attached as a document, or with buttons."""

    def __init__(self, key: Callable[[], bytes], wall_clock: Callable[[], float]):
        self._key = key
        self._clock = wall_clock

    def verify(self, callback_data: str) -> tuple[str, str]:
        """(action, arg) of a button this daemon signed within the TTL; else ButtonRefused."""
        return buttons.verify(self._key(), callback_data, self._clock())

    def markup(self, reply: Reply) -> dict[str, Any] | None:
        if not reply.buttons:
            return None
        row = [
            InlineKeyboardButton(
                b.label, callback_data=buttons.sign(self._key(), b.action, b.arg, self._clock())
            )
            for b in reply.buttons
        ]
        return InlineKeyboardMarkup([row]).to_dict()

    def send(self, chat_id: int, reply: Reply, now: datetime, priority: Priority) -> None:
        queue_reply(chat_id, reply, now, priority, self.markup(reply))

    def edit(
        self, chat_id: int, message_id: int, reply: Reply, now: datetime, priority: Priority
    ) -> None:
        payload: dict[str, Any] = {"message_id": message_id}
        markup = self.markup(reply)
        if markup:
            payload["reply_markup"] = markup
        text = split_message(render(reply))[0]
        receiver = Receiver.chat(chat_id)
        outbox.enqueue(receiver, text, now, priority=priority, kind="edit", payload=payload)

    def answer(
        self, chat_id: int, query_id: str, notice: str, now: datetime, priority: Priority
    ) -> None:
        """Queued for the chat the button was in, so it goes before the edit it causes."""
        payload = {"callback_query_id": query_id}
        receiver = Receiver.chat(chat_id)
        outbox.enqueue(
            receiver,
            notice,
            now,
            priority=priority,
            parse_mode=None,
            kind="answer",
            payload=payload,
        )
