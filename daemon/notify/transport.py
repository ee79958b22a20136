"""The one interface a transport implements, and how it reports a failed delivery.

A transport delivers one queued item to its receiver and classifies failure: the sender
decides what follows (retry later, dead letter, drop the receiver, pause) the same way
for every kind of receiver.
"""

from __future__ import annotations

from typing import Protocol

from daemon.policy.pacing import PacingLimits
from daemon.store.outbox import QueuedCall, Receiver


class DeliveryFailed(Exception):
    """str() is one short, redacted line for the log and the dead letter."""


class Throttled(DeliveryFailed):
    """The receiver's service asked us to wait (Telegram's 429 with retry_after)."""

    def __init__(self, message: str, seconds: float):
        super().__init__(message)
        self.seconds = seconds


class Temporary(DeliveryFailed):
    """Worth trying again later: network trouble, a 5xx."""


class Refused(DeliveryFailed):
    """This item can never be delivered (a bad request): it becomes a dead letter."""


class ReceiverGone(DeliveryFailed):
    """The receiver will not accept anything (the user blocked the bot): everything queued
    for it becomes a dead letter and nothing is retried."""


class Transport(Protocol):
    kind: str  # the Receiver.kind it serves

    def limits(self) -> PacingLimits:
        """The pace its service allows (read each round: a reload may change it)."""
        ...

    def paced(self, call: QueuedCall) -> bool:
        """Whether this call counts against the limits (Telegram: messages, not edits)."""
        ...

    async def deliver(self, call: QueuedCall) -> None:
        """Deliver or raise a DeliveryFailed."""
        ...

    def gone(self, receiver: Receiver) -> None:
        """Forget a receiver that refuses everything; runs inside the transaction that
        dead-letters its items (Telegram: the chat leaves the broadcast list)."""
        ...
