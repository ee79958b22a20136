"""What a command answers: plain data that any transport escapes, formats, splits or
attaches. Pure; its own module so that commands/, digest/ and telegram/ share it without
importing each other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    """A button under a reply; pressing it runs the ButtonAction `action` with `arg`."""

    label: str
    action: str
    arg: str = ""


@dataclass(frozen=True)
class Document:
    """A file to send instead of (or beside) text: long logs, CSV exports."""

    filename: str
    content: str


@dataclass(frozen=True)
class RenderLater:
    """A document made after the reply is committed, outside any transaction, by the
    renderer registered under `renderer` (a chart, the journal as CSV): slow work never
    holds the write lock that updates and fills wait for."""

    filename: str
    renderer: str
    args: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Reply:
    """Plain data; the transport escapes, formats, splits or attaches it."""

    title: str = ""
    lines: tuple[str, ...] = ()
    rows: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()
    document: Document | None = None
    render_later: RenderLater | None = None
