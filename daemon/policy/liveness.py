"""Is the poll loop alive? The watchdog pings only while it is. Pure, monotonic seconds.

The loop is alive while every poll it sends is answered by the Bot API (with updates, an
empty list or an error status) within `timeout + grace` of being due. A poll that hangs,
a network that stays down, or a blocked event loop lets the deadline pass, the pings stop
and systemd's WatchdogSec restarts the daemon. Planned pauses (back-off, conflict mode)
move the deadline, so a slow but answering loop stays alive.
"""

from __future__ import annotations

from dataclasses import dataclass


def heartbeat_stale_after(interval: float) -> float:
    """Seconds without a stored heartbeat after which a daemon counts as stuck: three
    beats missed and half a minute more (supervisor's watchdog listener, doctor)."""
    return 3 * interval + 30


@dataclass
class PollLiveness:
    timeout: float
    grace: float
    deadline: float | None = None
    last_answer_at: float | None = None

    def starting(self, now: float) -> None:
        self.deadline = now + self.timeout + self.grace

    def answered(self, now: float, next_poll_in: float) -> None:
        """The Bot API answered; the next poll goes out `next_poll_in` seconds from now."""
        self.last_answer_at = now
        self.deadline = now + next_poll_in + self.timeout + self.grace

    def healthy(self, now: float) -> bool:
        return self.deadline is not None and now <= self.deadline

    def last_answer_age(self, now: float) -> float | None:
        return None if self.last_answer_at is None else now - self.last_answer_at
