"""What handlers queue for the sender: replies (split, as documents, with signed buttons),
message edits and callback answers, all written to the outbox inside the update's
transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from daemon.reply import Reply
from daemon.store import outbox
from daemon.telegram import buttons
from daemon.telegram.formatting import MAX_PARTS, render, render_plain, split_message


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

    def send(self, chat_id: int, reply: Reply, now: datetime) -> None:
        html = render(reply)
        parts = split_message(html)
        if reply.document is not None or len(parts) > MAX_PARTS:
            document = reply.document
            filename = document.filename if document else "reply.txt"
            content = document.content if document else render_plain(reply)
            caption = render(Reply(title=reply.title)) if reply.title else ""
            attached = {"filename": filename, "content": content}
            outbox.enqueue(chat_id, caption, now, kind="document", payload=attached)
            return
        markup = self.markup(reply)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            payload = {"reply_markup": markup} if last and markup else None
            outbox.enqueue(chat_id, part, now, payload=payload)

    def edit(self, chat_id: int, message_id: int, reply: Reply, now: datetime) -> None:
        payload: dict[str, Any] = {"message_id": message_id}
        markup = self.markup(reply)
        if markup:
            payload["reply_markup"] = markup
        text = split_message(render(reply))[0]
        outbox.enqueue(chat_id, text, now, kind="edit", payload=payload)

    def answer(self, query_id: str, notice: str, now: datetime) -> None:
        payload = {"callback_query_id": query_id}
        outbox.enqueue(0, notice, now, parse_mode=None, kind="answer", payload=payload)
