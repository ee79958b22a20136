"""`tradebotd supervisor-watchdog`: supervisor's stand-in for systemd's WatchdogSec=.

An event listener on TICK_5 (etc/supervisor/tradebotd.conf). On every tick it reads the
daemon's last heartbeat from the database; the daemon stores one only while its poll
loop is answered. When the heartbeat is older than --stale-after (counted from the
program's start at the earliest), it restarts the program over supervisor's XML-RPC.
Only protocol bytes go to stdout; the log goes to stderr.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from loguru import logger
from supervisor import childutils

from daemon.config import Settings
from daemon.store import events
from daemon.store.database import open_database

RUNNING = 20  # supervisor's ProcessStates.RUNNING


def is_stale(now: float, heartbeat: float | None, started: float, stale_after: float) -> bool:
    """Pure: no heartbeat for `stale_after` seconds since the later of both marks."""
    last_sign = max(heartbeat or 0.0, started)
    return now - last_sign > stale_after


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.replace(tzinfo=UTC).timestamp()


def check_once(rpc: Any, program: str, stale_after: float, now: float) -> str | None:
    """Restart `program` if its heartbeat is stale; the reason, or None when healthy."""
    info = rpc.supervisor.getProcessInfo(program)
    if info["state"] != RUNNING:
        return None  # starting, backing off or stopped: supervisor's own business
    heartbeat = _epoch(events.last_heartbeat())
    if not is_stale(now, heartbeat, float(info["start"]), stale_after):
        return None
    age = now - max(heartbeat or 0.0, float(info["start"]))
    reason = f"no heartbeat for {age:.0f}s (pid {info['pid']}): restarting {program}"
    logger.error("supervisor-watchdog: {}", reason)
    rpc.supervisor.stopProcess(program, True)
    rpc.supervisor.startProcess(program, False)
    return reason


def listen(
    settings: Settings,
    program: str,
    stale_after: float,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> int:
    """The event-listener loop; runs until supervisor stops it."""
    open_database(settings.database_url)
    rpc = childutils.getRPCInterface(os.environ)
    protocol = childutils.listener
    logger.info(
        "supervisor-watchdog: watching {} (restart after {:.0f}s without heartbeat)",
        program,
        stale_after,
    )
    while True:
        headers, _payload = protocol.wait(stdin, stdout)
        if headers.get("eventname", "").startswith("TICK"):
            try:
                check_once(rpc, program, stale_after, time.time())
            except Exception as exc:  # keep listening; supervisor would restart us anyway
                logger.opt(exception=exc).error("supervisor-watchdog: check failed: {}", exc)
        protocol.ok(stdout)
