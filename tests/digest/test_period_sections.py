"""Digest periods and sections (pure): idempotency keys, DOWN detection, N/18."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from daemon.digest.facts import DigestFacts
from daemon.digest.period import period_for
from daemon.digest.render import digest_reply
from daemon.digest.sections import AdminCommands, DaemonHealth, is_down

NOW = datetime(2026, 11, 28, 23, 30)  # UTC


def test_day_and_week_keys_follow_the_configured_time_zone() -> None:
    assert period_for("day", NOW).key == "day:2026-11-28"
    assert period_for("day", NOW, "Europe/Berlin").key == "day:2026-11-29"  # 00:30 there
    assert period_for("week", NOW).key == "week:2026-W48"
    day = period_for("day", NOW)
    assert (day.start, day.end, day.minutes) == (NOW - timedelta(days=1), NOW, 1440)
    with pytest.raises(ValueError, match="period must be one of day, week, got 'month'"):
        period_for("month", NOW)


FACTS = DigestFacts(
    period=period_for("day", NOW),
    now=NOW,
    heartbeat_interval=60,
    last_heartbeat=NOW - timedelta(seconds=30),
    minutes_up=1296,
    starts=3,
    unclean_starts=1,
    conflicts=2,
    updates=120,
    errors=4,
    commands_run={"start": 5, "status": 2},
    admin_commands=("status", "health", "logs"),
    published_admin_menu=("start", "status", "health", "logs"),
    self_checks={"status": None, "health": None, "logs": None},
)


def test_no_live_poller_is_down_whatever_the_heartbeat_says() -> None:
    """A fresh heartbeat but no process holding the poller lock: down now."""
    gone = replace(FACTS, poller_running=False)
    assert is_down(gone)
    assert DaemonHealth().render(gone).lines[0] == (
        "DAEMON DOWN: no tradebotd process runs (last heartbeat 0m30s ago)"
    )
    assert not is_down(replace(FACTS, poller_running=True))


def test_health_section_reports_the_period() -> None:
    assert DaemonHealth().render(FACTS).lines == (
        "daemon up: last heartbeat 0m30s ago",
        "uptime 90.0% of the day",
        "starts 3, of them after a crash or watchdog kill 1",
        "409 conflict episodes 2",
        "updates handled 120",
        "commands run /start 5, /status 2",
        "errors logged 4",
        "last backup: never (tradebotd backup)",
    )
    backed_up = replace(FACTS, last_backup=NOW - timedelta(hours=26))
    assert DaemonHealth().render(backed_up).lines[-1] == (
        "last backup 1d2h0m ago (2026-11-27 21:30 UTC)"
    )


def test_a_daemon_without_a_recent_heartbeat_is_down_loudly() -> None:
    stale = replace(FACTS, last_heartbeat=NOW - timedelta(minutes=4))
    assert DaemonHealth().render(stale).lines[0] == "DAEMON DOWN: last heartbeat 4m0s ago"
    reply = digest_reply(stale)
    assert reply.lines[0] == "!!! THE DAEMON IS DOWN: nothing is polling Telegram !!!"
    never = replace(FACTS, last_heartbeat=None)
    assert DaemonHealth().render(never).lines[0] == "DAEMON DOWN: no heartbeat was ever recorded"
    # Within three heartbeats (at least three minutes) it is up.
    assert "!!!" not in "\n".join(
        digest_reply(replace(FACTS, last_heartbeat=NOW - timedelta(minutes=2))).lines
    )


def test_admin_commands_count_only_those_in_the_menu_with_a_passing_self_check() -> None:
    assert AdminCommands().render(FACTS).lines == ("3/18 admin commands registered and answering",)
    broken = replace(
        FACTS,
        published_admin_menu=("status", "health"),
        self_checks={"status": None, "health": "OperationalError: no such table"},
    )
    assert AdminCommands().render(broken).lines == (
        "1/18 admin commands registered and answering",
        "/health: OperationalError: no such table",
        "/logs: not in the admin menu",
    )
    unknown = replace(FACTS, published_admin_menu=None)
    assert AdminCommands().render(unknown).lines[0] == (
        "3/18 admin commands registered and answering "
        "(admin menu unknown: no admin has a chat with the bot)"
    )


def test_the_digest_is_titled_by_period() -> None:
    assert digest_reply(FACTS).title == "tradebotd daily digest 2026-11-28"
    week = replace(FACTS, period=period_for("week", NOW))
    assert digest_reply(week).title == "tradebotd weekly digest 2026-W48"
