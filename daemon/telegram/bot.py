"""Building python-telegram-bot's Application for the daemon: our poll loop, our sender
(which paces sends itself, so PTB's rate limiter is not used)."""

from __future__ import annotations

from typing import Any, TypeAlias

from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ExtBot

from daemon import __version__
from daemon.config import Settings
from daemon.telegram.aiohttp_request import AiohttpRequest

# Named, so the Bot API emulator (and an operator reading a proxy log) can tell
# tradebotd's requests from a legacy poller's.
USER_AGENT = f"tradebotd/{__version__} (python-telegram-bot)"
# Updates the daemon handles; Telegram remembers the list between calls.
# my_chat_member: a user blocked or unblocked the bot, or a group removed it.
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
# The daemon's Application: PTB's default context, no job queue of its own.
PtbApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]


class DaemonBot(ExtBot[Any]):
    async def get_update_dicts(
        self, offset: int | None, poll_seconds: int, allowed_updates: list[str]
    ) -> list[dict[str, Any]]:
        """getUpdates' answer as JSON objects, not yet parsed: PTB parses the whole list at
        once, so one update it cannot read would hide (and, replayed, wedge) all others.
        The read timeout grows with the poll, as PTB's get_updates does it."""
        read_timeout = (self._request[0].read_timeout or 0) + poll_seconds
        data = {"offset": offset, "timeout": poll_seconds, "allowed_updates": allowed_updates}
        result = await self._post("getUpdates", data, read_timeout=read_timeout)
        if not isinstance(result, list) or not all(isinstance(u, dict) for u in result):
            raise TelegramError(f"getUpdates answered {type(result).__name__}, not updates")
        return result


def build_application(settings: Settings) -> PtbApplication:
    assert settings.token is not None
    bot = DaemonBot(
        token=settings.token,
        base_url=f"{settings.api_url}/bot",
        base_file_url=f"{settings.api_url}/file/bot",
        request=AiohttpRequest(user_agent=USER_AGENT, connection_pool_size=4, read_timeout=10),
        # getUpdates has its own connection: PTB adds the poll timeout to read_timeout.
        get_updates_request=AiohttpRequest(user_agent=USER_AGENT, connection_pool_size=1),
    )
    # updater(None): the daemon owns polling (offset, back-off, conflicts, heartbeat).
    return ApplicationBuilder().bot(bot).updater(None).build()
