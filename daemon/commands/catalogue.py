"""The registry as this build ships it: public commands first, then each admin group.

Subsystems (digest, alerts, paper trading, AutoSell) add their modules here when they
land; a command is registered only once it works.
"""

from __future__ import annotations

from daemon.commands import (
    admins,
    alerts,
    autosell,
    broadcast,
    digest,
    logs,
    paper,
    price_alerts,
    public,
    settings,
    status,
)
from daemon.commands.registry import Registry, Role


def build_registry() -> Registry:
    registry = Registry()
    for module in (
        public,
        status,
        logs,
        settings,
        admins,
        broadcast,
        digest,
        paper,
        autosell,
        alerts,
        price_alerts,
    ):
        module.register(registry)
    return registry


README_START = "<!-- commands: generated from the registry; tests/test_readme.py checks it -->"
README_END = "<!-- end of commands -->"


def markdown_catalogue(registry: Registry) -> str:
    """The README's command table, public commands first, as /help orders them."""
    lines = [README_START, "", "| command | who | what it does |", "|---|---|---|"]
    for command in sorted(registry, key=lambda c: c.role is Role.ADMIN):
        usage = f"/{command.name} {command.usage}".rstrip().replace("|", "\\|")
        who = "admins" if command.role is Role.ADMIN else "everyone"
        lines.append(f"| `{usage}` | {who} | {command.description} |")
    return "\n".join([*lines, "", README_END])


if __name__ == "__main__":  # python -m daemon.commands.catalogue: the table to paste
    print(markdown_catalogue(build_registry()))
