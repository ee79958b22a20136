"""Logging: redaction from every logger, journal priority prefixes, plain lines elsewhere."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

from daemon.logs import Redactor, setup_logging, stderr_is_journal
from daemon.notify.errors import MAX_DESCRIPTION, describe
from daemon.systemd import Notifier
from tests.support.processes import NotifySocket

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = TOKEN.split(":", 1)[1]


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    yield
    logger.remove()
    logging.basicConfig(handlers=[], force=True)


def test_redactor_masks_the_token_and_its_secret_half_alone() -> None:
    redact = Redactor([TOKEN, None])
    assert (
        redact(f"GET https://api/bot{TOKEN}/getMe") == "GET https://api/bot123456:<redacted>/getMe"
    )
    assert redact(f"secret={SECRET}") == "secret=<redacted>"


def test_every_logger_is_redacted_and_httpx_is_kept_quiet(tmp_path: Path) -> None:
    """loguru, stdlib loggers and exception text all pass through redaction;
    httpx's per-request INFO lines (which carry the URL) are dropped."""
    stream = (tmp_path / "log").open("w+")
    setup_logging("DEBUG", [TOKEN], environ={}, stream=stream)
    logger.info("direct {}", TOKEN)
    logging.getLogger("telegram.ext.Application").warning("ptb says %s", TOKEN)
    logging.getLogger("httpx").info("HTTP Request: POST https://x/bot%s/getUpdates", TOKEN)
    try:
        raise RuntimeError(f"failed calling /bot{TOKEN}/getMe")
    except RuntimeError:
        logger.exception("boom")
    stream.seek(0)
    text = stream.read()
    assert SECRET not in text
    assert "direct 123456:<redacted>" in text
    assert "ptb says 123456:<redacted>" in text
    assert "RuntimeError: failed calling /bot123456:<redacted>/getMe" in text
    assert "HTTP Request" not in text


def test_journal_stream_gets_syslog_priorities_on_every_line(tmp_path: Path) -> None:
    """$JOURNAL_STREAM naming our stderr: `<N>` prefixes, traceback lines included."""
    stream = (tmp_path / "journal").open("w+")
    stat = os.fstat(stream.fileno())
    environ = {"JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino}"}
    assert stderr_is_journal(environ, stream)
    setup_logging("DEBUG", [], environ=environ, stream=stream)
    logger.debug("d")
    logger.info("i")
    logger.warning("w")
    try:
        raise ValueError("x")
    except ValueError:
        logger.exception("e")
    stream.seek(0)
    lines = stream.read().splitlines()
    assert lines[:4] == ["<7>d", "<6>i", "<4>w", "<3>e"]
    assert all(line.startswith("<3>") for line in lines[4:])
    assert lines[-1] == "<3>ValueError: x"


def test_plain_stream_gets_timestamps_and_no_priority_prefix() -> None:
    """A terminal or a supervisor log file: no `<6>`, a time and the level instead."""
    stream = io.StringIO()
    assert not stderr_is_journal({"JOURNAL_STREAM": "1:2"}, stream)
    setup_logging("INFO", [], environ={"JOURNAL_STREAM": "1:2"}, stream=stream)
    logger.info("hello")
    line = stream.getvalue().rstrip("\n")
    assert line.endswith(" INFO     hello")
    assert not line.startswith("<")


def test_a_shortened_error_text_never_keeps_half_a_secret() -> None:
    """describe() cuts long texts to one short line: it redacts first, so a secret cut
    in two by the cut is not left half visible."""
    setup_logging("INFO", [TOKEN], environ={}, stream=io.StringIO())
    url = "https://api.telegram.org/bot" + TOKEN + "/getMe"
    error = RuntimeError("x" * (MAX_DESCRIPTION - len(url) + 20) + url)
    text = describe(error)
    assert len(text) <= MAX_DESCRIPTION
    assert SECRET[:12] not in text
    assert "<redacted>" in text or text.endswith("…")


def test_sd_notify_status_is_redacted(tmp_path: Path) -> None:
    """STATUS= goes to systemd, not through the log: it is redacted all the same
    (a failed getMe's text names the URL, token included). Real datagram socket."""
    setup_logging("INFO", [TOKEN, "hook-secret-42"], environ={}, stream=io.StringIO())
    listener = NotifySocket(tmp_path / "notify.sock")
    try:
        previous = os.environ.get("NOTIFY_SOCKET")
        os.environ["NOTIFY_SOCKET"] = str(listener.path)  # sdnotify reads os.environ
        try:
            notifier = Notifier(environ={"NOTIFY_SOCKET": str(listener.path)})
            notifier.status(f"waiting for the Bot API: GET /bot{TOKEN}/getMe hook-secret-42")
        finally:
            if previous is None:
                del os.environ["NOTIFY_SOCKET"]
            else:
                os.environ["NOTIFY_SOCKET"] = previous
        listener.wait_for(
            "STATUS=waiting for the Bot API: GET /bot123456:<redacted>/getMe <redacted>"
        )
    finally:
        listener.close()
