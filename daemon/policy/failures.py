"""Repeated failures from one client (wrong secrets at the alert ingest): a sliding
window per client; past the limit the client is answered 429 until the window frees a
place. Pure: the clock is passed in."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class FailureLimit:
    limit: int = 5
    window: float = 60.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, client: str, now: float) -> float | None:
        """Seconds the client must wait, or None when it may try."""
        seen = self._failures.get(client)
        if seen is None:
            return None
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        if not seen:
            del self._failures[client]
            return None
        if len(seen) < self.limit:
            return None
        return max(seen[0] + self.window - now, 1.0)

    def failed(self, client: str, now: float) -> None:
        seen = self._failures.setdefault(client, deque())
        if len(seen) < self.limit:  # bounded memory however hard one client hammers
            seen.append(now)
        if len(self._failures) > 10_000:  # a sweep, rarely: forget clients gone quiet
            for name, times in list(self._failures.items()):
                if not times or times[-1] <= now - self.window:
                    del self._failures[name]
