"""The doctor's verdicts, pure: each fact to OK / WARN / FAIL with its fix, and the
report's exact lines."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from daemon.ops.doctor.checks import (
    Level,
    disk_verdict,
    fail,
    heartbeat_verdict,
    ok,
    outbox_verdict,
    quotes_verdict,
    schema_verdict,
    warn,
    webhook_verdict,
)
from daemon.ops.doctor.host import parse_show, service_check, timer_check, unit_of
from daemon.ops.doctor.run import render_lines, verdict

NOW = datetime(2026, 11, 30, 12, 0, 0)
GIB = 2**30
NEWER_FIX = "install the newer tradebotd again (make upgrade), or restore an older backup"


@pytest.mark.parametrize(
    ("info", "polling", "own", "level", "detail"),
    [
        ({"url": "", "pending_update_count": 3}, True, None, Level.OK,
         "none (polling); 3 updates pending"),
        ({"url": "https://elsewhere.example/hook", "pending_update_count": 7}, True, None,
         Level.FAIL, "a webhook is set (https://elsewhere.example/hook) while this daemon "
         "polls: getUpdates gets 409 Conflict (7 updates pending)"),
        ({"url": "https://bot.example/tg"}, False, "https://bot.example/tg", Level.OK,
         "set to https://bot.example/tg; 0 updates pending"),
        ({"url": ""}, False, "https://bot.example/tg", Level.FAIL,
         "the webhook is not set, not this daemon's https://bot.example/tg"),
        ({"url": "https://bot.example/tg", "pending_update_count": 2,
          "last_error_message": "Connection refused"}, False, "https://bot.example/tg",
         Level.WARN, "Telegram's last delivery error: Connection refused (2 updates pending)"),
    ],
)  # fmt: skip
def test_webhook_state_against_how_the_daemon_receives(
    info: dict[str, Any], polling: bool, own: str | None, level: Level, detail: str
) -> None:
    check = webhook_verdict(info, polling, own)
    assert (check.level, check.detail) == (level, detail)
    assert (check.fix is None) == (level is Level.OK)


def test_a_heartbeat_is_stale_after_three_intervals_and_half_a_minute() -> None:
    def at(seconds: float, running: bool = True) -> tuple[Level, str]:
        check = heartbeat_verdict(NOW - timedelta(seconds=seconds), NOW, 60, running)
        return check.level, check.detail

    assert at(210) == (Level.OK, "last 3m ago (every 60s expected)")
    assert at(211)[0] is Level.FAIL
    assert at(600)[1] == (
        "last 10m ago (every 60s expected): the daemon holds the lock but its heartbeat "
        "stopped; the poller looks stuck"
    )
    assert at(600, running=False) == (
        Level.WARN,
        "last 10m ago (every 60s expected) (the daemon is not running)",
    )
    assert heartbeat_verdict(None, NOW, 60, False).level is Level.WARN


@pytest.mark.parametrize(
    ("free", "total", "level"),
    [(50 * 2**20, 100 * GIB, Level.FAIL), (GIB // 2, 100 * GIB, Level.WARN),
     (4 * GIB, 100 * GIB, Level.WARN), (20 * GIB, 100 * GIB, Level.OK)],
)  # fmt: skip
def test_disk_space(free: int, total: int, level: Level) -> None:
    assert disk_verdict(free, total, "/var/lib/tradebotd").level is level


def test_disk_space_is_said_in_gib_and_share() -> None:
    assert disk_verdict(20 * GIB, 100 * GIB, "/var/lib/tradebotd").detail == (
        "20.0 GiB free of 100.0 GiB (20%) at /var/lib/tradebotd"
    )


@pytest.mark.parametrize(
    ("found", "level", "fix"),
    [(0, Level.WARN, "systemctl start tradebotd (it creates it)"),
     (7, Level.WARN, "tradebotd db upgrade (the daemon also upgrades at start)"),
     (8, Level.OK, None),
     (9, Level.FAIL, NEWER_FIX)],
)  # fmt: skip
def test_schema_version_against_this_tradebotd(found: int, level: Level, fix: str | None) -> None:
    check = schema_verdict(found, 8)
    assert (check.level, check.fix) == (level, fix)


def test_prices_stale_or_never_seen() -> None:
    max_ages = {"BTC/USDT": 60.0, "ETH/USDT": 60.0, "SOL/USDT": 60.0}
    check = quotes_verdict({"BTC/USDT": 5, "ETH/USDT": 400}, max_ages)
    assert (check.level, check.detail) == (
        Level.WARN,
        "ETH/USDT stale (6m old); SOL/USDT never seen",
    )
    assert quotes_verdict({"BTC/USDT": 5}, {"BTC/USDT": 60}).detail == "1 symbols fresh"
    assert quotes_verdict({}, {}).level is Level.OK


def test_dead_letters_warn_with_the_command_that_clears_them() -> None:
    check = outbox_verdict(2, 3, NOW - timedelta(hours=5), NOW)
    assert (check.level, check.detail, check.fix) == (
        Level.WARN,
        "2 waiting, 3 dead letters (oldest 5h ago)",
        "read why with /logs, then tradebotd db clear-dead-letters",
    )
    assert outbox_verdict(0, 0, None, NOW).level is Level.OK


def test_systemd_service_states() -> None:
    shown = parse_show(
        "LoadState=loaded\nActiveState=active\nSubState=running\nNRestarts=2\nResult=watchdog\n"
    )
    check = service_check(shown)
    assert (check.level, check.detail) == (
        Level.WARN,
        "tradebotd.service active (running), 2 restarts; the watchdog killed it "
        "(its heartbeat stopped)",
    )
    failed = service_check({**shown, "ActiveState": "failed", "SubState": "failed",
                            "Result": "exit-code"})  # fmt: skip
    assert failed.level is Level.FAIL
    assert service_check({**shown, "Result": "success"}).level is Level.OK
    # After the restart systemd says success; the journal still has the kill.
    journal = (
        "2026-11-30T04:12:09+0000 host systemd[1]: tradebotd.service: "
        "Failed with result 'watchdog'."
    )
    restarted = service_check({**shown, "Result": "success"}, journal)
    assert (restarted.level, restarted.detail) == (
        Level.WARN,
        "tradebotd.service active (running), 2 restarts; the watchdog killed it at "
        "2026-11-30T04:12:09+0000 (its heartbeat stopped)",
    )
    assert service_check({"LoadState": "not-found"}).fix == "make install (docs/deploy.md)"
    timer = timer_check(parse_show("LoadState=loaded\nActiveState=inactive\n"))
    assert (timer.level, timer.fix) == (
        Level.WARN,
        "systemctl enable --now tradebotd-digest.timer",
    )


def test_the_unit_a_process_runs_in() -> None:
    assert unit_of("0::/system.slice/tradebotd.service\n") == "tradebotd.service"
    assert unit_of("0::/user.slice/user-0.slice/session-3.scope\n") == "session-3.scope"
    assert unit_of("0::/\n") is None


def test_the_report_one_line_per_check_and_the_exit_verdict() -> None:
    checks = [
        ok("config", "the environment load"),
        warn("poller lock", "nobody holds it", "systemctl start tradebotd"),
        fail("database", "integrity_check: bad page", "tradebotd restore BACKUP"),
    ]
    assert render_lines(checks) == [
        "OK    config       the environment load",
        "WARN  poller lock  nobody holds it",
        "                   fix: systemctl start tradebotd",
        "FAIL  database     integrity_check: bad page",
        "                   fix: tradebotd restore BACKUP",
        "doctor: 3 checks, 1 FAIL, 1 WARN",
    ]
    assert verdict(checks) is Level.FAIL
    assert verdict(checks[:2]) is Level.WARN
    assert verdict(checks[:1]) is Level.OK
