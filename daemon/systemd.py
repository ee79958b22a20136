"""sd_notify: READY, STATUS, WATCHDOG, STOPPING and RELOADING for a Type=notify unit.

Outside systemd ($NOTIFY_SOCKET unset) every call does nothing. STATUS text is kept ASCII
because the sdnotify package encodes with latin-1 and drops what it cannot send.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import sdnotify
from loguru import logger

from daemon.logs import redact
from daemon.numbers import ascii_int


def watchdog_interval(environ: Mapping[str, str], pid: int | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WatchdogSec), or None if not watched."""
    usec = ascii_int(environ.get("WATCHDOG_USEC", ""), 1, 2**64 - 1)
    if usec is None:
        return None
    watched_pid = ascii_int(environ.get("WATCHDOG_PID", ""), 1, 2**32 - 1)
    if watched_pid is not None and watched_pid != (os.getpid() if pid is None else pid):
        return None
    return usec / 1_000_000 / 2


def ascii_status(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii").replace("\n", " ")


class Notifier:
    """One sd_notify channel; `sent` keeps the last few messages for /health and tests."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        environ = os.environ if environ is None else environ
        self.enabled = bool(environ.get("NOTIFY_SOCKET"))
        self.watchdog_pings = 0
        self._failure_logged = False
        self._channel: sdnotify.SystemdNotifier | None = None
        if self.enabled:
            # debug=True makes sdnotify raise instead of silently dropping; we log once.
            # It reads NOTIFY_SOCKET from os.environ itself.
            try:
                self._channel = sdnotify.SystemdNotifier(debug=True)
            except OSError as exc:
                self._log_failure(exc)

    def _log_failure(self, exc: OSError) -> None:
        if not self._failure_logged:
            self._failure_logged = True
            logger.warning(
                "sd_notify: cannot reach $NOTIFY_SOCKET ({}); systemd will not hear us", exc
            )

    def _send(self, *fields: str) -> None:
        if self._channel is not None:
            try:
                # STATUS= carries error texts (a failed getMe names the URL, token and all).
                self._channel.notify(redact("\n".join(fields)))
            except OSError as exc:
                self._log_failure(exc)

    def ready(self, status: str) -> None:
        self._send("READY=1", f"STATUS={ascii_status(status)}")

    def status(self, status: str) -> None:
        self._send(f"STATUS={ascii_status(status)}")

    def watchdog(self) -> None:
        self.watchdog_pings += 1
        self._send("WATCHDOG=1")

    def reloading(self) -> None:
        self._send("RELOADING=1", "STATUS=reloading configuration")

    def stopping(self, status: str = "stopping") -> None:
        self._send("STOPPING=1", f"STATUS={ascii_status(status)}")
