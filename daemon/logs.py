"""Logging: loguru everywhere, stdlib logging bridged in, secrets redacted from every line.

When stderr is the journal ($JOURNAL_STREAM names its device:inode) each line starts with
its syslog priority, `<N>`, so `journalctl -p warning` works and journald adds the time;
anywhere else lines carry their own timestamp and level.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from loguru import logger

from daemon.numbers import ascii_int

# loguru level → syslog priority (sd-daemon(3)).
PRIORITIES = {
    "TRACE": 7,
    "DEBUG": 7,
    "INFO": 6,
    "SUCCESS": 5,
    "WARNING": 4,
    "ERROR": 3,
    "CRITICAL": 2,
}
ERROR_LEVEL_NO = 40  # loguru's ERROR
PLAIN_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} {level: <8} {message}"
JOURNAL_FORMAT = "{message}"
# Per-request noise, kept at WARNING even at LOG_LEVEL=DEBUG: httpx logs every request
# URL (which holds the token) at INFO, peewee every SQL statement at DEBUG.
QUIET_LIBRARIES = ("httpx", "httpcore", "peewee", "apscheduler", "aiohttp.access")
# Chatty at INFO, useful at DEBUG: they follow LOG_LEVEL only when it is DEBUG or TRACE.
VERBOSE_LIBRARIES = ("telegram",)
# PTB logs a proxy's HTML 5xx page with a traceback at ERROR before raising; the poll
# loop and the sender report it in one line each.
SILENCED_LIBRARIES = ("telegram.request",)


class Redactor:
    """Replaces secrets, and a bot token's secret half on its own, wherever they appear.

    Fed from one list, Settings.secrets (the token, the webhook secret, passwords in
    URLs, and every secret a feature declares), by setup_logging."""

    def __init__(self, secrets: Iterable[str | None] = ()):
        self._pairs: list[tuple[str, str]] = []
        for secret in secrets:
            if not secret:
                continue
            if ":" in secret:
                bot_id, half = secret.split(":", 1)
                self._pairs.append((secret, f"{bot_id}:<redacted>"))
                self._pairs.append((half, "<redacted>"))
            else:
                self._pairs.append((secret, "<redacted>"))

    def __call__(self, text: str) -> str:
        for secret, mask in self._pairs:
            if secret in text:
                text = text.replace(secret, mask)
        return text


# The redactor setup_logging installed last: what leaves the process by other roads than
# the log (sd_notify STATUS, shortened error texts) passes through it too.
_active = Redactor()


def redact(text: str) -> str:
    """`text` with every configured secret masked."""
    return _active(text)


def stderr_is_journal(environ: Mapping[str, str], stream: TextIO) -> bool:
    """True when `stream` is the journal stream systemd connected ($JOURNAL_STREAM)."""
    value = environ.get("JOURNAL_STREAM", "")
    device, _, inode = (ascii_int(part, 0, 2**64 - 1) for part in value.partition(":"))
    if device is None or inode is None:
        return False
    try:
        stat = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return False
    return (stat.st_dev, stat.st_ino) == (device, inode)


class RingBuffer:
    """The last lines logged, already redacted, for `/logs` and failure reports."""

    def __init__(self, size: int = 2000):
        self.lines: deque[tuple[int, str]] = deque(maxlen=size)
        self.errors_unrecorded = 0  # ERROR and above since the heartbeat last stored them

    def take_errors(self) -> int:
        count, self.errors_unrecorded = self.errors_unrecorded, 0
        return count

    def add(self, level_no: int, line: str) -> None:
        self.lines.append((level_no, line))
        if level_no >= ERROR_LEVEL_NO:
            self.errors_unrecorded += 1

    def last(self, count: int, min_level_no: int = 0) -> list[str]:
        matching = [line for level_no, line in self.lines if level_no >= min_level_no]
        return matching[-count:]


class _InterceptHandler(logging.Handler):
    """Sends stdlib logging records (PTB, httpx, aiohttp) to loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(exception=record.exc_info, depth=6).log(level, record.getMessage())


def _make_sink(stream: TextIO, redact: Redactor, journal: bool, ring: RingBuffer) -> Any:
    def sink(message: Any) -> None:
        record = message.record
        text = redact(str(message))
        # The ring always keeps time and level, even when the journal adds its own.
        head = f"{record['time']:%Y-%m-%d %H:%M:%S} {record['level'].name:<8} "
        ring.add(record["level"].no, redact(head + record["message"]))
        if journal:
            prefix = f"<{PRIORITIES.get(record['level'].name, 6)}>"
            # Each line of a traceback is its own journal entry: give each its priority.
            text = "".join(prefix + line for line in text.splitlines(keepends=True))
        stream.write(text)
        stream.flush()

    return sink


def setup_logging(
    level: str,
    secrets: Iterable[str | None] = (),
    environ: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
    ring: RingBuffer | None = None,
) -> RingBuffer:
    """(Re)configure loguru and route stdlib logging into it; returns the ring buffer."""
    environ = os.environ if environ is None else environ
    stream = sys.stderr if stream is None else stream
    ring = ring if ring is not None else RingBuffer()
    journal = stderr_is_journal(environ, stream)
    global _active
    _active = Redactor(secrets)
    logger.remove()
    logger.add(
        _make_sink(stream, _active, journal, ring),
        level=level,
        format=JOURNAL_FORMAT if journal else PLAIN_FORMAT,
        # Exceptions are formatted plainly: `diagnose` would print local variables,
        # and those hold the token.
        backtrace=False,
        diagnose=False,
        colorize=False,
    )
    debugging = level in ("TRACE", "DEBUG")
    logging.basicConfig(
        handlers=[_InterceptHandler()],
        level=logging.DEBUG if debugging else logging.INFO,
        force=True,
    )
    for name in VERBOSE_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if debugging else logging.WARNING)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in SILENCED_LIBRARIES:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return ring
