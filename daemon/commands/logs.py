"""Admin /logs [N] [level]: the last log lines, already redacted, from memory."""

from __future__ import annotations

from loguru import logger

from daemon.commands.registry import Command, CommandCall, CommandError, Registry, Role, Services
from daemon.config import LOG_LEVELS
from daemon.numbers import ascii_int
from daemon.reply import Document, Reply

DEFAULT_LINES = 20
MAX_LINES = 200
USAGE = f"[N 1-{MAX_LINES}, default {DEFAULT_LINES}] [level: {' | '.join(LOG_LEVELS).lower()}]"


def parse(args: tuple[str, ...]) -> tuple[int, str]:
    count, level = DEFAULT_LINES, "TRACE"
    rest = list(args)
    if rest and rest[0].isascii() and rest[0].isdigit():
        text = rest.pop(0)
        parsed = ascii_int(text, 1, MAX_LINES)
        if parsed is None:
            raise CommandError(
                f"N must be between 1 and {MAX_LINES}, got {text}.\nUsage: /logs {USAGE}"
            )
        count = parsed
    if rest:
        level = rest.pop(0).upper()
        if level not in LOG_LEVELS:
            raise CommandError(f"Unknown level {level.lower()!r}.\nUsage: /logs {USAGE}")
    if rest:
        raise CommandError(f"Usage: /logs {USAGE}")
    return count, level


async def logs(call: CommandCall, services: Services) -> Reply:
    count, level = parse(call.args)
    lines = services.ring.last(count, logger.level(level).no)
    title = f"Last {len(lines)} log lines at {level} or above"
    if not lines:
        return Reply(title=title, lines=("(none)",))
    if sum(len(line) + 1 for line in lines) > 3500:
        return Reply(title=title, document=Document("tradebotd-logs.txt", "\n".join(lines) + "\n"))
    return Reply(title=title, lines=tuple(lines))


def register(registry: Registry) -> None:
    registry.add(
        Command(
            "logs",
            Role.ADMIN,
            "[N] [level]",
            "recent log lines (redacted)",
            logs,
            "ops",
            self_check=lambda settings: parse(("20", "info")),
        )
    )
