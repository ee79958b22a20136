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
from daemon.commands.registry import Registry


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
