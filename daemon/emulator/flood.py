"""Flood control as Telegram applies it to one bot: pure token buckets over a clock value.

Limits (defaults as documented by Telegram): about 30 messages per second overall, about
one per second per chat with a short burst, 20 per minute per group chat. Telegram's
limits are approximate; `grace_seconds` stands for that: a send is refused only when no
token would be free within the grace, so a client that spaces its sends exactly at the
limit is not refused because its requests arrived a few milliseconds unevenly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class FloodSettings:
    enabled: bool = True
    global_per_second: float = 30.0
    chat_per_second: float = 1.0
    chat_burst: int = 3
    group_per_minute: float = 20.0
    grace_seconds: float = 0.05

    def updated(self, changes: dict[str, object]) -> FloodSettings:
        """A copy with `changes` applied; unknown keys and bad values raise ValueError."""
        allowed = {f: type(getattr(self, f)) for f in self.__dataclass_fields__}
        clean: dict[str, object] = {}
        for key, value in changes.items():
            if key not in allowed:
                raise ValueError(f"unknown flood setting {key!r}")
            kind = allowed[key]
            if kind is bool:
                if not isinstance(value, bool):
                    raise ValueError(f"flood setting {key!r} must be true or false, got {value!r}")
            elif (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or value < 0
                or (value == 0 and key != "grace_seconds")
            ):
                raise ValueError(f"flood setting {key!r} must be a positive number, got {value!r}")
            clean[key] = kind(value)
        return replace(self, **clean)  # type: ignore[arg-type]


@dataclass
class TokenBucket:
    capacity: float
    per_second: float
    tokens: float
    updated_at: float

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated_at)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.per_second)
        self.updated_at = now

    def wait_needed(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self._refill(now)
        if self.tokens >= 1:
            return 0.0  # (tokens may be below 1, even negative, after a send in the grace)
        return (1 - self.tokens) / self.per_second

    def take(self) -> None:
        self.tokens -= 1


@dataclass
class FloodControl:
    """Decides, per send, whether Telegram would answer 429 and with which retry_after."""

    settings: FloodSettings = field(default_factory=FloodSettings)
    _global: TokenBucket | None = None
    _chats: dict[int, TokenBucket] = field(default_factory=dict)

    def reconfigure(self, settings: FloodSettings) -> None:
        self.settings = settings
        self._global = None
        self._chats.clear()

    def admit(self, chat_id: int, is_group: bool, now: float) -> int | None:
        """None if the send may go through (and it is counted), else retry_after seconds.

        A refused send consumes nothing, so a client that waits retry_after succeeds.
        """
        if not self.settings.enabled:
            return None
        buckets = [self._global_bucket(now), self._chat_bucket(chat_id, is_group, now)]
        wait = max(bucket.wait_needed(now) for bucket in buckets)
        if wait > self.settings.grace_seconds:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.take()
        return None

    def _global_bucket(self, now: float) -> TokenBucket:
        if self._global is None:
            rate = self.settings.global_per_second
            self._global = TokenBucket(rate, rate, rate, now)
        return self._global

    def _chat_bucket(self, chat_id: int, is_group: bool, now: float) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if is_group:
                per_minute = self.settings.group_per_minute
                bucket = TokenBucket(per_minute, per_minute / 60.0, per_minute, now)
            else:
                burst = float(self.settings.chat_burst)
                bucket = TokenBucket(burst, self.settings.chat_per_second, burst, now)
            self._chats[chat_id] = bucket
        return bucket
