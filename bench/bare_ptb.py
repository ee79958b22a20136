"""The baseline: a bare python-telegram-bot Application with a trivial /start reply.

python -m bench.bare_ptb TOKEN API_ROOT
"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("Hello! I am a bare PTB bot.")


def main() -> None:
    token, api_root = sys.argv[1], sys.argv[2]
    app = ApplicationBuilder().token(token).base_url(f"{api_root}/bot").build()
    app.add_handler(CommandHandler("start", start))
    app.run_polling(allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
