"""Conflict policy: when 409s mean a foreign poller, and what to do about it. Pure.

An isolated 409 happens (a predecessor's dead connection, a one-off manual getUpdates)
and is retried soon. `threshold` 409s within `window` seconds mean another live poller
or a webhook holds the token: the poll loop then slows to a bounded rate with jitter
(never a tight loop that would fight it), the admins are told once per episode, and
normal polling resumes when polls stop being answered with 409.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field

from daemon.policy.backoff import Backoff

# One message per this many seconds at most, even if episodes flap.
NOTIFY_EVERY = 3600.0
ISOLATED_RETRY = 1.0


class Verdict(enum.Enum):
    ISOLATED = "isolated"  # retry soon
    FOREIGN_DETECTED = "foreign-detected"  # a new episode: log ERROR, tell admins
    FOREIGN_ONGOING = "foreign-ongoing"


@dataclass
class ConflictTracker:
    threshold: int
    window: float
    backoff: Backoff
    # A conflict clears when an answer comes and no 409 came for this long.
    quiet: float = 35.0
    total: int = 0
    episodes: int = 0
    in_conflict: bool = False
    last_conflict_at: float | None = None
    _recent: deque[float] = field(default_factory=deque)
    _notified_at: float | None = None
    _notified_this_episode: bool = False

    def on_conflict(self, now: float) -> Verdict:
        self.total += 1
        self.last_conflict_at = now
        self._recent.append(now)
        while self._recent and now - self._recent[0] > self.window:
            self._recent.popleft()
        if self.in_conflict:
            return Verdict.FOREIGN_ONGOING
        if len(self._recent) >= self.threshold:
            self.in_conflict = True
            self.episodes += 1
            self._notified_this_episode = False
            return Verdict.FOREIGN_DETECTED
        return Verdict.ISOLATED

    def delay(self, verdict: Verdict, jitter: float) -> float:
        """Seconds to wait before the next getUpdates after this verdict."""
        if verdict is Verdict.ISOLATED:
            return ISOLATED_RETRY * (0.75 + 0.5 * jitter)
        return self.backoff.next_delay(jitter)

    def on_answer(self, now: float) -> bool:
        """A poll was answered without 409; True when this ends a conflict episode."""
        if not self.in_conflict:
            return False
        assert self.last_conflict_at is not None
        if now - self.last_conflict_at < self.quiet:
            return False
        self.in_conflict = False
        self._recent.clear()
        self.backoff.reset()
        return True

    def should_notify(self, now: float) -> bool:
        """True once per episode, and at most once per NOTIFY_EVERY seconds."""
        if not self.in_conflict or self._notified_this_episode:
            return False
        if self._notified_at is not None and now - self._notified_at < NOTIFY_EVERY:
            return False
        self._notified_this_episode = True
        self._notified_at = now
        return True
