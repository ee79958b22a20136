"""Alert routing as the digest reports it, read from the database: alerts received in
the period, how many a silence muted, what went to each receiver, the queue's dead
letters, personal price alerts fired."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from daemon.alerts.settings import AlertsSettings
from daemon.config import Settings
from daemon.store import alerts as stored
from daemon.store import outbox, price_alerts


@dataclass(frozen=True)
class AlertsSummary:
    received: int
    silenced: int
    sent: dict[str, int]  # receiver → alerts sent there
    dead_letters: int
    price_alerts_fired: int


def alerts_summary(settings: Settings, since: datetime) -> AlertsSummary | None:
    """None without a routing tree (no alert routing to report)."""
    alerts: AlertsSettings = settings.section("alerts")
    if alerts.route is None:
        return None
    received, silenced = stored.counts_since(since)
    return AlertsSummary(received, silenced, stored.sent_by_receiver_since(since),
                         outbox.dead_letter_summary().count,
                         price_alerts.fired_since(since))  # fmt: skip
