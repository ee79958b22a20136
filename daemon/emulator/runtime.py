"""One emulated bot: its world plus the machinery that acts on it (polls, webhook, limits)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from daemon.emulator.counters import Counters
from daemon.emulator.faults import FaultTable
from daemon.emulator.flood import FloodControl, FloodSettings
from daemon.emulator.foreign_poller import ForeignPoller
from daemon.emulator.polling import LongPolls
from daemon.emulator.webhook import WebhookDelivery
from daemon.emulator.world import BotWorld, User, new_token_secret


@dataclass(frozen=True)
class Caller:
    """Who is calling: the User-Agent header and the TCP connection it came over."""

    user_agent: str
    connection: str

    def __str__(self) -> str:
        return f"{self.user_agent} @ {self.connection}"


@dataclass
class EmulatedBot:
    world: BotWorld
    flood: FloodControl
    counters: Counters = field(default_factory=Counters)
    faults: FaultTable = field(default_factory=FaultTable)
    monotonic: Callable[[], float] = time.monotonic
    polls: LongPolls = field(init=False)
    delivery: WebhookDelivery = field(init=False)
    webhook_retry_seconds: float = 1.0
    foreign_poller: ForeignPoller | None = None  # started from the web chat's side panel

    def __post_init__(self) -> None:
        self.polls = LongPolls(self.world)
        self.delivery = WebhookDelivery(self.world, retry_seconds=self.webhook_retry_seconds)


def make_bot(
    bot_id: int,
    username: str,
    token_secret: str | None = None,
    flood: FloodSettings | None = None,
    webhook_retry_seconds: float = 1.0,
) -> EmulatedBot:
    token = f"{bot_id}:{token_secret or new_token_secret()}"
    me = User(bot_id, "Emulated Bot", username, is_bot=True)
    return EmulatedBot(
        BotWorld(token, me),
        FloodControl(flood or FloodSettings()),
        webhook_retry_seconds=webhook_retry_seconds,
    )
