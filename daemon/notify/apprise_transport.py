"""The Apprise transport: an alert receiver's other platforms (discord://, slack://,
ntfy://, mailto://, json://, …), as a receiver kind of the notification queue.

The queue keeps the receiver's name, never its URLs: they are secrets, read from the
running settings at each delivery (a reload that changes them applies to what waits).
Apprise blocks, so each delivery runs in a worker thread; `False` from Apprise (some
target failed) is a temporary failure, retried by the sender's usual policy. Apprise's
own logger stays at WARNING, through the redactor: it logs rewritten target URLs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence

from daemon.notify.transport import Refused, Temporary
from daemon.policy.pacing import PacingLimits
from daemon.store.outbox import QueuedCall, Receiver

APPRISE = "apprise"
# Chat services rate-limit webhooks about this hard (Discord: 5 per 2 s per webhook).
LIMITS = PacingLimits(global_per_second=10.0, chat_per_second=1.0, chat_burst=5,
                      group_per_minute=60.0)  # fmt: skip
logging.getLogger("apprise").setLevel(logging.WARNING)


def receiver(name: str) -> Receiver:
    return Receiver(APPRISE, 0, name)


class AppriseTransport:
    kind = APPRISE

    def __init__(self, urls: Callable[[], Mapping[str, Sequence[str]]]):
        self._urls = urls  # receiver name → its Apprise URLs, from the running settings

    def limits(self) -> PacingLimits:
        return LIMITS

    def paced(self, call: QueuedCall) -> bool:
        return True

    def gone(self, receiver: Receiver) -> None:
        """Nothing to forget: a receiver is the config's."""

    async def deliver(self, call: QueuedCall) -> None:
        urls = self._urls().get(call.receiver.name)
        if not urls:
            raise Refused(f"no receiver {call.receiver.name!r} with Apprise URLs in the config")
        title = str(call.payload.get("title", "tradebotd"))
        if not await asyncio.to_thread(_notify, list(urls), title, call.text):
            raise Temporary(f"Apprise could not deliver to every target of {call.receiver.name}")


def _notify(urls: list[str], title: str, body: str) -> bool:
    import apprise  # imported on first use: the idle daemon without receivers never loads it

    sender = apprise.Apprise()
    for url in urls:
        sender.add(url)
    return bool(sender.notify(body=body, title=title))
