"""One notification's text: a group's alerts, newest last. Pure."""

from __future__ import annotations

from daemon.alerts.grouping import Flush
from daemon.reply import Reply

ICON = {"critical": "🚨", "warning": "⚠️", "info": "🔔"}


def title(flush: Flush) -> str:
    worst = max((a.label("severity") for a in flush.alerts),
                key=lambda s: ("info", "warning", "critical").index(s)
                if s in ("info", "warning", "critical") else 0)  # fmt: skip
    grouped = " ".join(f"{name}={value}" for name, value in flush.labels if value)
    count = len(flush.alerts)
    head = f"{count} alerts" if count > 1 else "Alert"
    return f"{ICON.get(worst, '🔔')} {head}" + (f" ({grouped})" if grouped else "")


def reply(flush: Flush) -> Reply:
    return Reply(title=title(flush), lines=tuple(f"{a.at:%H:%M:%S} {a.text}" for a in flush.alerts))


def plain(flush: Flush) -> str:
    """The same for receivers without HTML (Apprise)."""
    return "\n".join(f"{a.at:%Y-%m-%d %H:%M:%S} UTC {a.text}" for a in flush.alerts)
