"""Message entities: Telegram's HTML parse_mode and the bot_command entities of user text.

Offsets and lengths are in UTF-16 code units, as in the Bot API. Errors quote the byte
offset into the UTF-8 input, as Telegram's `can't parse entities` errors do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_SPECIAL_TAGS = {"a", "span", "blockquote", "tg-emoji"}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTRIBUTE = re.compile(r"\s*([a-zA-Z-]+)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)")
_COMMAND = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


class EntityParseError(ValueError):
    """The text is not valid for the parse mode; str() is Telegram's wording."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    entity: dict[str, Any] | None
    start: int


@dataclass
class _HtmlParser:
    source: str
    text: list[str] = field(default_factory=list)
    length: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)
    stack: list[_Open] = field(default_factory=list)

    def fail(self, position: int, message: str) -> EntityParseError:
        offset = len(self.source[:position].encode("utf-8"))
        return EntityParseError(f"can't parse entities: {message} at byte offset {offset}")

    def emit(self, chunk: str) -> None:
        self.text.append(chunk)
        self.length += utf16_len(chunk)

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        src, pos = self.source, 0
        while pos < len(src):
            char = src[pos]
            if char == "<":
                pos = self.tag(pos)
            elif char == "&":
                pos = self.character_reference(pos)
            else:
                nxt = min(
                    (i for i in (src.find("<", pos), src.find("&", pos)) if i >= 0),
                    default=len(src),
                )
                self.emit(src[pos:nxt])
                pos = nxt
        if self.stack:
            raise EntityParseError(
                f"can't parse entities: Can't find end tag corresponding to start tag "
                f'"{self.stack[-1].tag}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.text), self.entities

    def character_reference(self, pos: int) -> int:
        match = re.match(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);", self.source[pos:])
        if match is None:
            self.emit("&")
            return pos + 1
        name = match.group(1)
        if name.startswith("#x"):
            self.emit(chr(int(name[2:], 16)))
        elif name.startswith("#"):
            self.emit(chr(int(name[1:])))
        elif name in _NAMED_ENTITIES:
            self.emit(_NAMED_ENTITIES[name])
        else:
            self.emit(match.group(0))  # unknown named entities stay as typed
        return pos + match.end()

    def tag(self, pos: int) -> int:
        src = self.source
        closing = src.startswith("</", pos)
        name_start = pos + (2 if closing else 1)
        match = re.match(r"[a-zA-Z0-9-]*", src[name_start:])
        name = match.group(0).lower() if match else ""
        if not closing and name not in _SIMPLE_TAGS and name not in _SPECIAL_TAGS:
            raise self.fail(pos, f'Unsupported start tag "{name}"')
        end = src.find(">", name_start)
        if end < 0:
            raise self.fail(pos, "Unclosed start tag")
        if closing:
            return self.close_tag(pos, name, end)
        attributes = dict(
            (k.lower(), v.strip("\"'"))
            for k, v in _ATTRIBUTE.findall(src[name_start + len(name) : end])
        )
        self.stack.append(_Open(name, self.entity_for(pos, name, attributes), self.length))
        return end + 1

    def entity_for(self, pos: int, name: str, attributes: dict[str, str]) -> dict[str, Any] | None:
        if name in _SIMPLE_TAGS:
            return {"type": _SIMPLE_TAGS[name]}
        if name == "a":
            href = attributes.get("href", "")
            user = re.fullmatch(r"tg://user\?id=(\d+)", href)
            if user:
                return {"type": "text_mention", "user": {"id": int(user.group(1))}}
            return {"type": "text_link", "url": href} if href else None
        if name == "span":
            if attributes.get("class") != "tg-spoiler":
                raise self.fail(pos, 'Tag "span" must have class "tg-spoiler"')
            return {"type": "spoiler"}
        if name == "blockquote":
            expandable = "expandable" in self.source[pos : self.source.find(">", pos)]
            return {"type": "expandable_blockquote" if expandable else "blockquote"}
        emoji = attributes.get("emoji-id")
        if not emoji:
            raise self.fail(pos, 'Tag "tg-emoji" must have attribute "emoji-id"')
        return {"type": "custom_emoji", "custom_emoji_id": emoji}

    def close_tag(self, pos: int, name: str, end: int) -> int:
        if not self.stack:
            raise self.fail(pos, f'Unexpected end tag "{name}"')
        top = self.stack.pop()
        if top.tag != name:
            raise self.fail(pos, f'Unmatched end tag "{name}", expected "</{top.tag}>"')
        if top.entity is not None and self.length > top.start:
            self.entities.append(
                {**top.entity, "offset": top.start, "length": self.length - top.start}
            )
        return end + 1


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """(plain text, entities) of an HTML-formatted message, or EntityParseError."""
    return _HtmlParser(source).parse()


def bot_command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entities a Telegram client attaches to text a user typed."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group(0)),
        }
        for m in _COMMAND.finditer(text)
    ]
