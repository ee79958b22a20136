"""Turning a transport-neutral Reply into Telegram HTML; every value is escaped here."""

from __future__ import annotations

from html import escape

from daemon.commands.registry import Reply


def render(reply: Reply) -> str:
    parts: list[str] = []
    if reply.title:
        parts.append(f"<b>{escape(reply.title)}</b>")
    parts.extend(escape(line) for line in reply.lines)
    parts.extend(f"{escape(key)} — {escape(value)}" for key, value in reply.rows)
    return "\n".join(parts) or "(nothing to say)"
