"""The heartbeat: the `[hb] alive` line, STATUS, and the only source of WATCHDOG=1.

Pings go out at half of WatchdogSec, but only while the poll loop is alive (see
policy/liveness.py); without polling they prove the event loop runs, since a blocked
loop cannot run this task. The `[hb]` line and the STATUS refresh come every
HEARTBEAT_INTERVAL, and the time of the last one is stored for the digest's up/down view.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from loguru import logger

from daemon.components import Components
from daemon.config import RetentionSettings
from daemon.logs import ERROR_LEVEL_NO, RingBuffer
from daemon.store import alerts, events, outbox, price_alerts, progress, stats
from daemon.store.database import Store, StoreUnavailable
from daemon.systemd import Notifier
from daemon.vitals import Vitals, format_age, heartbeat_line, status_line
from daemon.waiting import pause

# The heartbeat stamp in the state directory: what supervisor's watchdog listener reads
# (it never opens the database). Written only while the daemon does its job.
STAMP_NAME = "heartbeat"


def write_stamp(path: Path, now: datetime) -> None:
    """Replace the stamp atomically (a reader never sees half a line)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(now.replace(tzinfo=UTC).isoformat() + "\n")
    temporary.replace(path)


def read_stamp(path: Path) -> float | None:
    """The stamp as epoch seconds, or None when missing or unreadable."""
    try:
        return datetime.fromisoformat(path.read_text().strip()).timestamp()
    except (OSError, ValueError):
        return None


class Heartbeat:
    def __init__(
        self,
        *,
        vitals: Vitals,
        notifier: Notifier,
        store: Store,
        interval: Callable[[], float],
        watchdog_interval: float | None,
        utcnow: Callable[[], datetime],
        ring: RingBuffer,
        clock: Callable[[], float] = time.monotonic,
        retention: Callable[[], RetentionSettings] = RetentionSettings,
        stamp: Path | None = None,
        components: Callable[[], Components] | None = None,
    ):
        self._vitals = vitals
        self._notifier = notifier
        self._store = store
        self._interval = interval
        self._watchdog_interval = watchdog_interval
        self._utcnow = utcnow
        self._clock = clock
        self._withholding = False
        self._ring = ring
        self._retention = retention
        self._stamp = stamp
        self._last_beat: datetime | None = None
        # The other components' facts and verdicts join the [hb] line and STATUS=.
        self._components = components

    def poll_loop_alive(self) -> bool:
        if not self._vitals.polling_enabled:
            return True
        return self._vitals.liveness.healthy(self._clock())

    def ping_watchdog(self) -> None:
        if self.poll_loop_alive():
            if self._withholding:
                logger.info("watchdog: poll loop answered again; pings resume")
                self._withholding = False
            self._notifier.watchdog()
        elif not self._withholding:
            self._withholding = True
            age = self._vitals.liveness.last_answer_age(self._clock())
            logger.error(
                "watchdog: no getUpdates answered for {} (deadline passed); "
                "withholding WATCHDOG=1 so systemd restarts the daemon",
                format_age(age),
            )

    async def beat(self) -> None:
        vitals, now = self._vitals, self._utcnow()
        # Stored only while the daemon does its job (polls answered): the digest's up/down
        # and supervisor's watchdog read this, like systemd reads WATCHDOG=1.
        doing_its_job = self.poll_loop_alive()
        try:
            await self._record(now, doing_its_job)
        except StoreUnavailable as exc:
            # The line and STATUS still go out; the record waits for the next beat.
            logger.error("heartbeat not stored: {}", exc)
            doing_its_job = False
        if doing_its_job and self._stamp is not None:
            try:
                write_stamp(self._stamp, now)
            except OSError as exc:
                logger.error("heartbeat stamp {} not written: {}", self._stamp, exc)
        self._last_beat = now if doing_its_job else None
        if not doing_its_job:
            vitals.state = "stalled"
        snapshot = vitals.snapshot(self._clock())
        components = self._components() if self._components is not None else None
        suffix = components.heartbeat_suffix() if components is not None else ""
        logger.info(heartbeat_line(snapshot) + suffix)
        extra = components.status_suffix() if components is not None else ""
        self._notifier.status(status_line(snapshot) + extra)

    name = "heartbeat"

    def health(self) -> str | None:
        if self._withholding:
            return "FAIL: the poll loop missed its deadline: watchdog pings withheld"
        return f"ok: a beat every {self._interval():g}s"

    def facts(self) -> dict[str, int | str]:
        return {}

    async def _record(self, now: datetime, doing_its_job: bool) -> None:
        kept = self._retention()
        async with self._store.transaction():
            self._vitals.outbox_backlog = outbox.backlog()
            if doing_its_job:
                stats.alive_between(self._last_beat or now, now)
                events.set_heartbeat(now)
            errors = self._ring.take_errors()
            if errors:
                stats.bump(stats.ERRORS, now, errors)
                # For alert routing: a condition ("errors are being logged"), with the
                # last one, already redacted as every ring line is.
                last = (self._ring.last(1, ERROR_LEVEL_NO) or [""])[0]
                detail = json.dumps({"count": errors, "last": last[-300:]})
                events.record("errors", now, detail)
            # Tables that only grow are pruned by age (docs/configuration.md, [retention]).
            progress.prune_processed(now, kept.kept("processed_updates"))
            outbox.prune_dead_letters(now - kept.kept("dead_letters"))
            events.prune(now - kept.kept("events"))
            # Alerts are events too, and kept as long.
            alerts.prune(now - kept.kept("events"))
            price_alerts.prune(now - kept.kept("events"))
            stats.prune(now - kept.kept("digest_history"))

    async def run(self, stop: asyncio.Event) -> None:
        now = self._clock()
        next_beat = now + self._interval()
        next_ping = now if self._watchdog_interval else None
        while not stop.is_set():
            now = self._clock()
            if next_ping is not None and now >= next_ping:
                self.ping_watchdog()
                next_ping = now + self._watchdog_interval  # type: ignore[operator]
            if now >= next_beat:
                await self.beat()
                next_beat = now + self._interval()
            wake_at = min(t for t in (next_beat, next_ping) if t is not None)
            await pause(stop, wake_at - self._clock())
