"""tradebotd: a Telegram trading companion that runs exactly one poller per token."""

__version__ = "0.1.0"
