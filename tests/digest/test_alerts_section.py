"""The digest's "Alerts" section from a real database: the period's alerts received and
silenced (earlier ones left out), what went to each receiver, dead letters, price alerts
fired; absent without a routing tree."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

from daemon.alerts.summary import alerts_summary
from daemon.digest.sections import Alerts
from daemon.store import alerts as stored
from daemon.store import price_alerts, schema
from daemon.store.database import open_database, transaction
from tests.digest.test_period_sections import FACTS
from tests.support.config import settings_from

CONFIG = """
[[alerts.receivers]]
name = "admins"
telegram = [1]
[alerts.route]
receiver = "admins"
"""


def test_the_section_counts_the_periods_alerts(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, CONFIG)
    db = open_database(settings.database_url)
    schema.upgrade(db)
    since = FACTS.period.start
    with transaction():
        stored.add("old", "f0", {"kind": "x"}, "before the period", since - timedelta(hours=1))
        for n in range(3):
            stored.add(f"k{n}", f"f{n + 1}", {"kind": "x"}, "t", since + timedelta(hours=n))
        stored.mark_routed([2], since, silenced_by=1)
        stored.record_sent("admins", ["f2", "f3"], since + timedelta(hours=2))
        stored.record_sent("ops", ["f1"], since - timedelta(hours=5))
        alert_id = price_alerts.add(5, 5, "BTC/USDT", True, D(1), since)
        price_alerts.fire(alert_id, D(2), since + timedelta(minutes=1))
    block = Alerts().render(replace(FACTS, alerts=alerts_summary(settings, since)))
    assert block is not None
    assert block.lines == (
        "3 received this day, 1 silenced",
        "sent: admins 2",
        "dead letters in the queue: 0",
        "personal price alerts fired: 1",
    )
    db.close()
    assert Alerts().render(FACTS) is None
