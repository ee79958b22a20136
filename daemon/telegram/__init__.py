"""python-telegram-bot glue: the bot, the poll loop, exactly-once processing, the sender."""
