"""A flood of commands from one public user: a sliding window per user. Pure."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    NOTICE = "notice"  # the first refused command: tell the user once
    IGNORE = "ignore"  # refused again: say nothing


@dataclass
class CommandThrottle:
    """At most `limit` commands per user within `window` seconds; beyond that one notice,
    then silence until the window has room again. Refused commands count too, so a user
    who keeps hammering stays ignored."""

    limit: int
    window: float
    _seen: dict[int, deque[float]] = field(default_factory=dict)
    _noticed: set[int] = field(default_factory=set)
    _forgot_at: float = float("-inf")

    def check(self, user_id: int, now: float) -> Verdict:
        if now - self._forgot_at >= self.window:
            # Once per window, not per command: the sweep walks every user seen.
            self.forget_idle(now)
            self._forgot_at = now
        seen = self._seen.setdefault(user_id, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        allowed = len(seen) < self.limit
        if len(seen) < 2 * self.limit:  # bounded memory however hard one user floods
            seen.append(now)
        if allowed:
            self._noticed.discard(user_id)
            return Verdict.ALLOW
        if user_id in self._noticed:
            return Verdict.IGNORE
        self._noticed.add(user_id)
        return Verdict.NOTICE

    def forget_idle(self, now: float) -> None:
        for user_id, seen in list(self._seen.items()):
            if not seen or seen[-1] <= now - self.window:
                del self._seen[user_id]
                self._noticed.discard(user_id)
