"""Turning a transport-neutral Reply into Telegram messages. Pure.

Every value is HTML-escaped here and nowhere else. Text longer than Telegram's 4096
characters is split on line boundaries; beyond MAX_PARTS messages it goes as a document.
"""

from __future__ import annotations

from html import escape

from daemon.reply import Reply

MESSAGE_LIMIT = 4096
MAX_PARTS = 4  # more than this many messages: send a .txt document instead


def render(reply: Reply) -> str:
    parts: list[str] = []
    if reply.title:
        parts.append(f"<b>{escape(reply.title)}</b>")
    parts.extend(escape(line) for line in reply.lines)
    parts.extend(f"{escape(key)} — {escape(value)}" for key, value in reply.rows)
    return "\n".join(parts) or "(nothing to say)"


def render_plain(reply: Reply) -> str:
    parts = [reply.title] if reply.title else []
    parts.extend(reply.lines)
    parts.extend(f"{key}: {value}" for key, value in reply.rows)
    return "\n".join(parts) + "\n"


def _cut_long_line(line: str, limit: int) -> list[str]:
    """Pieces of one over-long escaped line, never cutting inside an `&…;` entity."""
    pieces = []
    while len(line) > limit:
        cut = limit
        amp = line.rfind("&", cut - 8, cut)
        if amp != -1 and ";" not in line[amp:cut]:
            cut = amp
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces


def split_message(html: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Messages of at most `limit` characters, cut at line ends where possible.

    Tags never span lines in what render() makes, so every piece is valid HTML.
    """
    messages: list[str] = []
    current = ""
    for line in html.split("\n"):
        for piece in _cut_long_line(line, limit):
            candidate = f"{current}\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = piece
    messages.append(current)
    return messages
