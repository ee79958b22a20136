"""`tradebotd supervisor-watchdog`: supervisor's stand-in for systemd's WatchdogSec=.

An event listener on TICK_5 (etc/supervisor/tradebotd.conf), running as the service
user. On every tick it reads the heartbeat stamp the daemon writes into its state
directory (only while its poll loop is answered) and the kernel's lock table. When a
live process holds the poller lock and the stamp is older than --stale-after (counted
from the lock's taking at the earliest), it sends that process SIGABRT through a pidfd,
as systemd's watchdog does: faulthandler dumps the stacks, the exit is unexpected, and
supervisor (autorestart=unexpected) starts the program again.

It never opens the database: a read-only SQLite open still creates `-wal`/`-shm` files
in a writable directory, and a file created by another user can lock the daemon out.
It creates no file at all. Only protocol bytes go to stdout; the log goes to stderr.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

from loguru import logger
from supervisor import childutils

from daemon import guard
from daemon.heartbeat import STAMP_NAME, read_stamp


def is_stale(now: float, heartbeat: float | None, started: float, stale_after: float) -> bool:
    """Pure: no heartbeat for `stale_after` seconds since the later of both marks."""
    last_sign = max(heartbeat or 0.0, started)
    return now - last_sign > stale_after


def check_once(state_directory: Path, program: str, stale_after: float, now: float) -> str | None:
    """Abort the poller if its heartbeat is stale; the reason, or None when healthy."""
    lock = state_directory / guard.LOCK_NAME
    pid = guard.live_holder(lock)
    if not pid:
        return None  # not running (or not ours to see): supervisor's business
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return None  # gone meanwhile
    try:
        # Checked after opening the pidfd: the signal reaches this very lock holder.
        if guard.live_holder(lock) != pid:
            return None
        started = lock.stat().st_mtime  # written when the lock was taken
        heartbeat = read_stamp(state_directory / STAMP_NAME)
        if not is_stale(now, heartbeat, started, stale_after):
            return None
        age = now - max(heartbeat or 0.0, started)
        reason = f"no heartbeat for {age:.0f}s (pid {pid}): restarting {program} (SIGABRT)"
        logger.error("supervisor-watchdog: {}", reason)
        signal.pidfd_send_signal(pidfd, signal.SIGABRT)
        return reason
    finally:
        os.close(pidfd)


def listen(
    state_directory: Path,
    program: str,
    stale_after: float,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> int:
    """The event-listener loop; runs until supervisor stops it."""
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
                check_once(state_directory, program, stale_after, time.time())
            except Exception as exc:  # keep listening; supervisor would restart us anyway
                logger.opt(exception=exc).error("supervisor-watchdog: check failed: {}", exc)
        protocol.ok(stdout)
