"""The Telegram transport: queued items become Bot API calls; PTB's errors become the
sender's failure classes."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from daemon.notify.errors import describe, retry_after_seconds
from daemon.notify.transport import ReceiverGone, Refused, Temporary, Throttled
from daemon.policy.pacing import PacingLimits
from daemon.store import subscribers
from daemon.store.outbox import TELEGRAM, QueuedCall, Receiver

PACED_KINDS = ("message", "document", "photo")  # Telegram's limits count sent messages


class TelegramTransport:
    kind = TELEGRAM

    def __init__(self, bot: Bot, limits: Callable[[], PacingLimits]):
        self._bot = bot
        self._limits = limits

    def limits(self) -> PacingLimits:
        return self._limits()

    def paced(self, call: QueuedCall) -> bool:
        return call.kind in PACED_KINDS

    def gone(self, receiver: Receiver) -> None:
        subscribers.unsubscribe(receiver.chat_id)

    async def deliver(self, call: QueuedCall) -> None:
        try:
            await self._call(call)
        except RetryAfter as exc:
            raise Throttled(describe(exc), retry_after_seconds(exc)) from None
        except Forbidden as exc:
            raise ReceiverGone(describe(exc)) from None
        except BadRequest as exc:
            raise Refused(describe(exc)) from None
        except TelegramError as exc:  # NetworkError and TimedOut included
            raise Temporary(describe(exc)) from None

    async def _call(self, call: QueuedCall) -> None:
        payload = call.payload
        markup = payload.get("reply_markup")
        reply_markup = InlineKeyboardMarkup.de_json(markup, self._bot) if markup else None
        bot, chat_id, text, mode = (
            self._bot,
            call.receiver.telegram_chat,
            call.text,
            call.parse_mode,
        )
        if call.kind == "message":
            await bot.send_message(chat_id, text, parse_mode=mode, reply_markup=reply_markup)
        elif call.kind == "document":
            await bot.send_document(
                chat_id,
                document=payload["data"] if "data" in payload else payload["content"].encode(),
                filename=payload["filename"],
                caption=text or None,
                parse_mode=mode,
            )
        elif call.kind == "photo":
            await bot.send_photo(
                chat_id,
                photo=payload["data"],
                filename=payload["filename"],
                caption=text or None,
                parse_mode=mode,
            )
        elif call.kind == "edit":
            await bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=payload["message_id"],
                parse_mode=mode,
                reply_markup=reply_markup,
            )
        elif call.kind == "answer":
            await bot.answer_callback_query(payload["callback_query_id"], text=text or None)
        else:
            raise Refused(f"unknown call kind {call.kind!r}")
