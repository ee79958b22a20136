"""The daemon's own events as alerts: paper fills, AutoSell executions, starts, stops,
failures and foreign pollers, read from the event log. Each carries its event id among
its labels, so it is its own fingerprint and never held back as a repeat; a stale price
feed, a foreign poller, a dead letter and errors being logged are conditions instead,
repeated only after their repeat interval. Pure."""

from __future__ import annotations

import json
from datetime import datetime

from daemon.alerts.model import Alert

# The event kinds that become alerts, and their severity.
SEVERITY = {
    "fill": "info",
    "autosell": "warning",
    "conflict": "critical",
    "failure": "critical",
    "start": "info",
    "stop": "info",
    "stale_feed": "warning",
    "dead_letter": "warning",
    "errors": "warning",
}
KINDS = tuple(SEVERITY)


def _json(detail: str) -> dict[str, str]:
    try:
        data = json.loads(detail)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def from_event(event_id: int, kind: str, at: datetime, detail: str) -> Alert:
    labels = {"kind": kind, "severity": SEVERITY.get(kind, "info"), "source": "tradebotd",
              "id": f"event:{event_id}"}  # fmt: skip
    data = _json(detail)
    if kind == "fill":
        labels["symbol"] = data.get("symbol", "")
        text = (f"Paper {data.get('side', '?')} {data.get('qty', '?')} {labels['symbol']} at "
                f"{data.get('price', '?')} (fee {data.get('fee', '?')})")  # fmt: skip
    elif kind == "autosell":
        labels["symbol"] = data.get("symbol", "")
        labels["rule"] = data.get("rule", "")
        crossed = (
            " (crossed during the pause)" if data.get("crossed_during_pause") == "True" else ""
        )
        text = (f"AutoSell {labels['symbol']} {labels['rule']}{crossed}: sold "
                f"{data.get('qty', '?')} at {data.get('price', '?')}, realized "
                f"{data.get('realized', '?')}")  # fmt: skip
    elif kind == "start":
        unclean = "unclean" in detail
        labels["severity"] = "warning" if unclean else "info"
        text = f"tradebotd started ({detail})" if detail else "tradebotd started"
    elif kind == "stale_feed":
        # A condition, not an event: no id, so repeats wait their repeat interval.
        del labels["id"]
        labels["symbol"] = data.get("symbol", "")
        text = f"The price of {labels['symbol']} is stale: {data.get('reason', '?')}"
    elif kind == "conflict":
        del labels["id"]  # a condition: repeats wait their repeat interval
        text = f"Another process is polling this bot's token: {detail}"
    elif kind == "errors":
        del labels["id"]  # a condition: errors are being logged
        text = f"{data.get('count', '?')} errors logged since the last heartbeat; the last: " + (
            data.get("last", "?")
        )
    elif kind == "dead_letter":
        del labels["id"]  # a condition per receiver
        labels["receiver"] = data.get("receiver", "")
        text = f"A notification to {labels['receiver']} was given up: {data.get('error', '?')}"
    else:
        text = f"tradebotd {kind}" + (f": {detail}" if detail else "")
    return Alert(labels, text, at)
