"""Schema versions as frozen steps: each module holds the tables of its version as they
were then (frozen model copies), never the live models in store/models.py.

A live model may gain a column tomorrow; a migration that created its table from the live
class would then build the new shape early, and the later step adding that column would
fail. So a fresh database runs every step from version 1, exactly as an old one does,
and tests/store/test_migrations.py checks that both end identical and match the models.
Append a module per version; never edit a released one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import peewee

from daemon.store.migrations import (
    v1_initial,
    v2_commands,
    v3_digest,
    v4_notifications,
    v5_paper,
    v6_autosell,
    v7_alerts,
    v8_price_alerts,
    v9_cluster,
)


@dataclass(frozen=True)
class Migration:
    version: int
    summary: str
    apply: Callable[[peewee.Database], None]
    # False for migrations that rewrite much data or need the operator's attention:
    # then start refuses and `tradebotd db upgrade` must be run by hand.
    automatic: bool = True


INITIAL = Migration(1, "initial schema", v1_initial.apply)
MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "outbox call kinds; runtime admins, subscribers, broadcasts", v2_commands.apply),
    Migration(3, "hourly counters, uptime minutes, digest runs", v3_digest.apply),
    Migration(
        4,
        "notification queue: receivers, priorities, dedup keys, retry times",
        v4_notifications.apply,
    ),
    Migration(
        5,
        "paper trading: journal, balances, fills, lots, quotes, equity snapshots",
        v5_paper.apply,
    ),
    Migration(6, "AutoSell: rule states and rules set by command", v6_autosell.apply),
    Migration(7, "alert routing: alerts, the repeat log, silences", v7_alerts.apply),
    Migration(8, "personal price alerts", v8_price_alerts.apply),
    Migration(9, "active/standby nodes: the leadership lease and the node list", v9_cluster.apply),
)
