"""The command surface: a declarative registry and one module per command group.

Commands are transport-neutral: they get a `CommandCall` and `Services`, change state
through the store (inside the update's transaction) and return a `Reply` of plain data,
or raise `CommandError`. The Telegram layer parses, authorizes and formats.
"""
