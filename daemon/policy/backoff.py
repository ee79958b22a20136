"""Exponential back-off with jitter: a pure calculator, the caller sleeps."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Backoff:
    initial: float
    maximum: float
    factor: float = 2.0
    attempts: int = 0

    def next_delay(self, jitter: float) -> float:
        """The pause before the next try; `jitter` in [0, 1) spreads it over ±25 %.

        The result never drops below 0.75 × initial nor exceeds `maximum`, so a caller
        that waits it out is bounded in both directions.
        """
        base = min(self.maximum, self.initial * self.factor**self.attempts)
        self.attempts += 1
        return min(self.maximum, base * (0.75 + 0.5 * jitter))

    def reset(self) -> None:
        self.attempts = 0
