"""The digest as a Reply: a headline (loud when the daemon is down), then each section."""

from __future__ import annotations

from collections.abc import Sequence

from daemon.digest.facts import DigestFacts
from daemon.digest.sections import SECTIONS, Section, is_down
from daemon.reply import Reply

ADJECTIVE = {"day": "daily", "week": "weekly"}


def digest_reply(facts: DigestFacts, sections: Sequence[Section] = SECTIONS) -> Reply:
    when = facts.period.key.split(":", 1)[1]
    title = f"tradebotd {ADJECTIVE[facts.period.kind]} digest {when}"
    lines: list[str] = []
    if is_down(facts):
        lines.append("!!! THE DAEMON IS DOWN: nothing is polling Telegram !!!")
    for section in sections:
        block = section.render(facts)
        if block is None:
            continue
        lines.append("")
        lines.append(f"[{block.title}]")
        lines.extend(block.lines)
    return Reply(title=title, lines=tuple(lines))
