"""When to try a notification again after a temporary failure, and when to give up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from daemon.policy.backoff import Backoff


@dataclass(frozen=True)
class RetryPolicy:
    initial: float = 1.0  # seconds before the second try
    maximum: float = 300.0  # the back-off's cap
    max_age: float = 3600.0  # an item older than this is not tried again

    def next_attempt(
        self, failures: int, created_at: datetime, now: datetime, jitter: float
    ) -> datetime | None:
        """The time of the next try after `failures` failed ones (this one counted), or
        None: the next try would come later than `max_age` after the item was queued."""
        backoff = Backoff(initial=self.initial, maximum=self.maximum, attempts=failures - 1)
        at = now + timedelta(seconds=backoff.next_delay(jitter))
        return at if at - created_at <= timedelta(seconds=self.max_age) else None
