"""All emulated bots of one emulator process, found by token or by id."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from daemon.emulator.flood import FloodSettings
from daemon.emulator.runtime import EmulatedBot, make_bot

FIRST_BOT_ID = 7000000001


class TokenError(ValueError):
    pass


@dataclass
class Emulator:
    flood: FloodSettings = field(default_factory=FloodSettings)
    webhook_retry_seconds: float = 1.0
    by_token: dict[str, EmulatedBot] = field(default_factory=dict)
    by_id: dict[int, EmulatedBot] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(FIRST_BOT_ID))

    def add_bot(
        self,
        token: str | None = None,
        username: str | None = None,
        flood: FloodSettings | None = None,
    ) -> EmulatedBot:
        """Register a bot; a given token must look like Telegram's `<id>:<secret>`."""
        if token is not None:
            bot_id_text, _, secret = token.partition(":")
            if not bot_id_text.isdigit() or not secret or "/" in secret:
                raise TokenError("a token is <numeric bot id>:<secret>")
            bot_id = int(bot_id_text)
        else:
            bot_id, secret = next(self._ids), None
            while bot_id in self.by_id:
                bot_id = next(self._ids)
        if bot_id in self.by_id:
            raise TokenError(f"bot {bot_id} exists already")
        bot = make_bot(
            bot_id,
            username or f"emu{bot_id}_bot",
            secret,
            flood or self.flood,
            self.webhook_retry_seconds,
        )
        self.by_token[bot.world.token] = bot
        self.by_id[bot_id] = bot
        return bot

    async def close(self) -> None:
        for bot in self.by_id.values():
            if bot.foreign_poller is not None:
                await bot.foreign_poller.stop()
            await bot.delivery.close()
