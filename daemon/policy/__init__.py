"""Pure policies the poll loop and the sender follow: back-off, conflict verdicts,
liveness deadlines. Values in, values out; no Telegram, no database, no clock of their own."""
