"""Pacing sends within Telegram's limits: token buckets over a clock value, per receiver
and overall, plus pauses a 429 imposes. Pure: the caller passes the time.

Telegram's limits (as documented, approximate): about 30 messages per second overall,
about one per second per chat with a short burst, 20 per minute in a group. The Bot API
emulator refuses sends with buckets of its own (daemon/emulator/flood.py): it stands for
Telegram and imports nothing of the daemon, so the two are written twice on purpose.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    capacity: float
    per_second: float
    tokens: float
    updated_at: float

    @classmethod
    def full(cls, capacity: float, per_second: float, now: float) -> TokenBucket:
        return cls(capacity, per_second, capacity, now)

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated_at)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.per_second)
        self.updated_at = max(self.updated_at, now)

    def wait_needed(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self._refill(now)
        if self.tokens >= 1:
            return 0.0  # (tokens may be below 1, even negative, after a send in a grace)
        return (1 - self.tokens) / self.per_second

    def take(self) -> None:
        self.tokens -= 1


@dataclass(frozen=True)
class PacingLimits:
    global_per_second: float = 30.0
    chat_per_second: float = 1.0
    chat_burst: int = 3
    group_per_minute: float = 20.0


# Telegram measures its limits where requests arrive, and arrival times jitter by tens
# of milliseconds (the event loop, the network): sends spaced exactly at the limit are
# sometimes refused. Pacing at 95 % of each rate leaves that slack.
MARGIN = 0.95


@dataclass
class Pacer:
    """When each receiver may be sent to next. A receiver is any hashable key; `is_group`
    picks the stricter per-group bucket. Rates are paced at MARGIN of the limits."""

    limits: PacingLimits = field(default_factory=PacingLimits)
    _global: TokenBucket | None = None
    _receivers: dict[Hashable, TokenBucket] = field(default_factory=dict)
    _paused: dict[Hashable, float] = field(default_factory=dict)
    _all_paused_until: float = 0.0

    def paused_for(self, receiver: Hashable, now: float) -> float:
        """Seconds left of a 429's pause for `receiver` (or for every receiver); a call
        that sends no message (an edit, a callback answer) waits for this only."""
        return max(0.0, self._all_paused_until - now, self._paused.get(receiver, 0.0) - now)

    def wait(self, receiver: Hashable, is_group: bool, now: float) -> float:
        """Seconds before a send to `receiver` keeps within every limit and pause."""
        waits = [
            self.paused_for(receiver, now),
            self._global_bucket(now).wait_needed(now),
            self._bucket(receiver, is_group, now).wait_needed(now),
        ]
        return max(0.0, *waits)

    def take(self, receiver: Hashable, is_group: bool, now: float) -> None:
        """Count one send (call only when `wait` said 0)."""
        self._global_bucket(now).take()
        self._bucket(receiver, is_group, now).take()

    def pause(self, receiver: Hashable, until: float) -> None:
        """Telegram answered 429 for this receiver: nothing goes to it before `until`."""
        self._paused[receiver] = max(self._paused.get(receiver, 0.0), until)
        bucket = self._receivers.get(receiver)
        if bucket is not None:
            bucket.tokens = min(bucket.tokens, 0.0)  # no burst right after the pause

    def pause_all(self, until: float) -> None:
        self._all_paused_until = max(self._all_paused_until, until)

    def forget_idle(self, now: float) -> None:
        """Drop full buckets and past pauses: a broadcast to 10,000 chats must not leave
        10,000 buckets behind."""
        for key, bucket in list(self._receivers.items()):
            bucket.wait_needed(now)
            if bucket.tokens >= bucket.capacity:
                del self._receivers[key]
        for key, until in list(self._paused.items()):
            if until <= now:
                del self._paused[key]

    def _global_bucket(self, now: float) -> TokenBucket:
        if self._global is None:
            rate = self.limits.global_per_second
            self._global = TokenBucket.full(rate, rate * MARGIN, now)
        return self._global

    def _bucket(self, receiver: Hashable, is_group: bool, now: float) -> TokenBucket:
        bucket = self._receivers.get(receiver)
        if bucket is None:
            if is_group:
                per_minute = self.limits.group_per_minute
                bucket = TokenBucket.full(per_minute, per_minute / 60.0 * MARGIN, now)
            else:
                limits = self.limits
                rate = limits.chat_per_second * MARGIN
                bucket = TokenBucket.full(float(limits.chat_burst), rate, now)
            self._receivers[receiver] = bucket
        return bucket
