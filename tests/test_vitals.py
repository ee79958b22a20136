"""The heartbeat line and the STATUS line (pure)."""

from __future__ import annotations

from daemon.config import PollingSettings
from daemon.vitals import Vitals, heartbeat_line, status_line


def vitals(polling: bool = True) -> Vitals:
    v = Vitals.starting("1.0", polling, 100.0, PollingSettings(), offset=812)
    v.state, v.updates_handled, v.replies_sent = "polling", 17, 16
    v.liveness.answered(3700.0, 0)
    return v


def test_heartbeat_line_starts_with_hb_alive_and_the_offset() -> None:
    line = heartbeat_line(vitals().snapshot(3702.5))
    assert line == (
        "[hb] alive offset=812 updates=17 replies=16 last_poll_age=2.5s conflicts=0"
        " state=polling mode=polling outbox=0 poll_errors=0 uptime=1h0m"
    )


def test_status_tells_conflict_and_no_polling_plainly() -> None:
    v = vitals()
    assert status_line(v.snapshot(3701)).startswith("polling; offset=812 updates=17")
    for at in (1, 2, 3):
        v.conflicts.on_conflict(at)
    assert status_line(v.snapshot(3701)).startswith("CONFLICT: another poller holds the token")
    assert status_line(vitals(polling=False).snapshot(3701)).startswith(
        "running without polling (POLLING_ENABLED is not 1)"
    )
