"""What the running daemon knows about itself, and the lines that report it. Pure.

The poll loop and the sender update a `Vitals`; the heartbeat, the sd_notify STATUS and
/status read a `Snapshot` of it, so all three always tell the same story.
"""

from __future__ import annotations

from dataclasses import dataclass

from daemon.config import PollingSettings
from daemon.policy.backoff import Backoff
from daemon.policy.conflicts import ConflictTracker
from daemon.policy.liveness import PollLiveness


@dataclass
class Vitals:
    version: str
    polling_enabled: bool
    started_at: float  # monotonic
    liveness: PollLiveness
    conflicts: ConflictTracker
    # starting, polling, webhook, no-polling, conflict, backing-off, stalled, stopping
    state: str = "starting"
    offset: int = 0
    updates_handled: int = 0
    replies_sent: int = 0
    poll_errors: int = 0
    outbox_backlog: int = 0
    bot_username: str = ""
    webhook: bool = False  # updates pushed to our webhook instead of polled

    @classmethod
    def starting(
        cls,
        version: str,
        polling_enabled: bool,
        started_at: float,
        polling: PollingSettings,
        offset: int = 0,
    ) -> Vitals:
        """Fresh vitals whose liveness and conflict policy follow `polling`."""
        return cls(
            version=version,
            polling_enabled=polling_enabled,
            started_at=started_at,
            liveness=PollLiveness(polling.timeout, polling.watchdog_grace),
            conflicts=ConflictTracker(
                polling.conflict_threshold,
                polling.conflict_window,
                Backoff(polling.conflict_delay, polling.conflict_delay_max),
                # Cleared once polls are answered for a whole long poll without a 409.
                quiet=polling.timeout + 5,
            ),
            offset=offset,
        )

    def count_replies(self, delivered: int) -> None:
        self.replies_sent += delivered

    @property
    def mode(self) -> str:
        return "polling" if self.polling_enabled else "webhook" if self.webhook else "no-polling"

    def snapshot(self, now: float) -> Snapshot:
        return Snapshot(
            version=self.version,
            mode=self.mode,
            state=self.state,
            uptime=now - self.started_at,
            offset=self.offset,
            updates_handled=self.updates_handled,
            replies_sent=self.replies_sent,
            poll_errors=self.poll_errors,
            last_poll_age=self.liveness.last_answer_age(now),
            conflicts=self.conflicts.total,
            in_conflict=self.conflicts.in_conflict,
            outbox_backlog=self.outbox_backlog,
        )


@dataclass(frozen=True)
class Snapshot:
    version: str
    mode: str
    state: str
    uptime: float
    offset: int
    updates_handled: int
    replies_sent: int
    poll_errors: int
    last_poll_age: float | None
    conflicts: int
    in_conflict: bool
    outbox_backlog: int


def format_age(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.1f}s"


def rough_age(seconds: float) -> str:
    """An age in its one largest unit ("45s", "12m", "5h", "3d"): enough for a check line
    (format_duration is the exact one)."""
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h{minutes}m"
    if hours:
        return f"{hours}h{minutes}m"
    return f"{minutes}m{secs}s"


def heartbeat_line(s: Snapshot) -> str:
    return (
        f"[hb] alive offset={s.offset} updates={s.updates_handled} replies={s.replies_sent}"
        f" last_poll_age={format_age(s.last_poll_age)} conflicts={s.conflicts}"
        f" state={s.state} mode={s.mode} outbox={s.outbox_backlog}"
        f" poll_errors={s.poll_errors} uptime={format_duration(s.uptime)}"
    )


def status_line(s: Snapshot) -> str:
    """The one-line sd_notify STATUS (ASCII): what `systemctl status` shows."""
    if s.mode == "no-polling":
        head = "running without polling (POLLING_ENABLED is not 1)"
    elif s.mode == "webhook":
        head = "webhook mode"
    elif s.in_conflict:
        head = "CONFLICT: another poller holds the token; polling slowly"
    else:
        head = s.state
    return (
        f"{head}; offset={s.offset} updates={s.updates_handled}"
        f" last_poll_age={format_age(s.last_poll_age)} conflicts={s.conflicts}"
    )
