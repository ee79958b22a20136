"""Queueing a Reply for a Telegram chat: as HTML messages (split when long), or as a
document when too long for a few messages. Called inside the caller's transaction; the
daemon's handlers and the digest runner both queue this way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from daemon.notify.formatting import MAX_PARTS, render, render_plain, split_message
from daemon.reply import Reply
from daemon.store import outbox
from daemon.store.outbox import Priority, Receiver


def queue_reply(
    chat: int | Receiver,
    reply: Reply,
    now: datetime,
    priority: Priority,
    markup: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> list[int]:
    """Queue the reply's messages; `markup` (buttons) goes on the last. With `dedup_key`,
    each part is keyed "<key>:<n>", so a reply still waiting is not queued twice. Returns
    the ids of the items queued."""
    parts = split_message(render(reply))
    calls: list[tuple[str, str, dict[str, Any] | None]] = []  # (kind, text, payload)
    caption = render(Reply(title=reply.title)) if reply.title else ""
    later = reply.render_later
    if later is not None:
        payload = {"filename": later.filename, "render": later.renderer, "args": dict(later.args)}
        # A picture (the P&L chart) goes as a photo, shown in the chat; the rest as files.
        calls.append(("photo" if later.filename.endswith(".png") else "document", caption, payload))
    elif reply.document is not None or len(parts) > MAX_PARTS:
        document = reply.document
        filename = document.filename if document else "reply.txt"
        content = document.content if document else render_plain(reply)
        calls.append(("document", caption, {"filename": filename, "content": content}))
    else:
        calls += [("message", part, None) for part in parts]
        if markup:
            calls[-1] = ("message", parts[-1], {"reply_markup": markup})
    queued = [
        outbox.enqueue(
            Receiver.chat(chat) if isinstance(chat, int) else chat,
            text,
            now,
            priority=priority,
            kind=kind,
            payload=payload,
            dedup_key=f"{dedup_key}:{n}" if dedup_key else None,
        )
        for n, (kind, text, payload) in enumerate(calls)
    ]
    return [item for item in queued if item is not None]
