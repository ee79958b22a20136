"""The poll loop against the emulator: conflict policy, watchdog liveness, back-off."""

from __future__ import annotations

import re
import time

from daemon.emulator.client import BotControl
from daemon.telegram.bot import USER_AGENT
from tests.support.processes import ForeignPoller, Launch, NotifySocket, wait_until

ADMIN = 700
RUNTIME_ADMIN = 703
CONFLICT_DELAY = 0.6  # FAST_CONFIG's [polling] conflict_delay


def our_get_updates(bot: BotControl) -> int:
    return bot.counters()["by_user_agent"].get(USER_AGENT, {}).get("get_updates", 0)


def test_foreign_poller_is_detected_reported_once_not_fought_then_polling_resumes(
    bot: BotControl, launch: Launch, notify_socket: NotifySocket
) -> None:
    """Repeated 409s: ERROR with advice, one message to each admin (ADMIN_IDS and runtime),
    a bounded poll rate, recovery."""
    daemon = launch(admin_ids=str(ADMIN), env={"NOTIFY_SOCKET": str(notify_socket.path)})
    for user in (ADMIN, RUNTIME_ADMIN):  # Telegram: a bot writes only to known chats
        bot.send_text(from_user=user, text="/start")
        bot.wait_for_sent(chat_id=user)
    bot.send_text(from_user=ADMIN, text=f"/admins add {RUNTIME_ADMIN}")
    bot.wait_for_sent(chat_id=ADMIN, count=2)
    with ForeignPoller(bot) as legacy:
        daemon.wait_for_log(
            r"ERROR    409 Conflict: terminated by other getUpdates request.*"
            r" \(2 times within 30s\): another process is polling"
        )
        before, started = our_get_updates(bot), time.monotonic()
        time.sleep(5)
        ours = our_get_updates(bot) - before
        elapsed = time.monotonic() - started
        # Never faster than one poll per 0.75 × conflict_delay (jitter's lower bound).
        assert ours <= elapsed / (0.75 * CONFLICT_DELAY) + 1
        assert ours >= 1  # and it keeps trying, so it notices when the other one goes
        assert legacy.conflicts > 0
        wait_until(
            lambda: any(
                line.startswith("STATUS=CONFLICT: another poller holds the token")
                for line in notify_socket.lines("STATUS=")
            ),
            5,
            "a truthful STATUS",
        )
        daemon.wait_for_log(r"\[hb\] alive offset=\d+ .* state=conflict ")
    for admin, replies_before in ((ADMIN, 2), (RUNTIME_ADMIN, 1)):
        warning = bot.wait_for_sent(chat_id=admin, count=replies_before + 1)[replies_before]
        assert "Another process is polling this bot's token" in warning["text"]
    daemon.wait_for_log("conflict cleared", timeout=20)
    bot.send_text(from_user=701, text="/start")
    assert bot.wait_for_sent(chat_id=701)[0]["text"].startswith("Hello")
    # The replies before, and one warning per episode.
    assert len(bot.sent(chat_id=ADMIN)) == 3
    assert len(bot.sent(chat_id=RUNTIME_ADMIN)) == 2
    assert daemon.query("SELECT count(*) FROM event WHERE kind = 'conflict'") == [(1,)]


def test_watchdog_pings_stop_while_polls_hang_and_resume_when_answered(
    bot: BotControl, launch: Launch, notify_socket: NotifySocket
) -> None:
    """A getUpdates that never returns stops WATCHDOG=1; answers bring the pings back."""
    daemon = launch(
        env={"NOTIFY_SOCKET": str(notify_socket.path), "WATCHDOG_USEC": "1000000"},
        polling_started=False,
    )
    notify_socket.wait_for("WATCHDOG=1", count=3)
    bot.add_fault("delay", method="getUpdates", times=-1, seconds=60)
    daemon.wait_for_log("withholding WATCHDOG=1 so systemd restarts the daemon", timeout=20)
    pings = len(notify_socket.times("WATCHDOG=1"))
    time.sleep(2.5)  # five ping intervals
    assert len(notify_socket.times("WATCHDOG=1")) == pings
    assert "state=stalled" in daemon.log()
    bot.clear_faults()
    daemon.wait_for_log("watchdog: poll loop answered again; pings resume", timeout=20)
    notify_socket.wait_for("WATCHDOG=1", count=pings + 2)


def test_server_errors_back_off_and_polling_continues(bot: BotControl, launch: Launch) -> None:
    """5xx on getUpdates: warnings with growing pauses, then normal service."""
    daemon = launch()
    bot.add_fault("status", method="getUpdates", times=4, status=502)
    daemon.wait_for_log(r"getUpdates failed: Bad Gateway.*; retrying in", count=4, timeout=20)
    bot.send_text(from_user=702, text="/start")
    assert bot.wait_for_sent(chat_id=702)[0]["text"].startswith("Hello")
    delays = [float(x) for x in re.findall(r"retrying in ([0-9.]+)s", daemon.log())]
    assert delays[-1] > delays[0]  # exponential, not a tight loop


def test_retry_after_on_get_updates_is_honoured(bot: BotControl, launch: Launch) -> None:
    """A 429 on getUpdates: the loop waits the seconds Telegram asked for."""
    daemon = launch()
    before = our_get_updates(bot)
    bot.add_fault("flood", method="getUpdates", times=1, retry_after=2)
    daemon.wait_for_log("getUpdates: flood control, waiting 2s as told")
    after_flood = our_get_updates(bot)
    time.sleep(1.2)
    assert our_get_updates(bot) == after_flood  # silent while told to wait
    wait_until(lambda: our_get_updates(bot) > after_flood, 5, "polling resumed")
    assert after_flood > before


def test_an_update_ptb_cannot_read_is_skipped_on_the_record_not_fatal(
    bot: BotControl, launch: Launch
) -> None:
    """A getUpdates answer with one update python-telegram-bot cannot parse (here a
    ChatMemberBanned without until_date) used to raise for the whole list: the daemon
    exited 70 and, replayed after each restart, never got past it. Now that update alone
    is skipped with an ERROR, and the ones around it are handled."""
    bot.set_flood(enabled=False)
    daemon = launch(admin_ids="42")
    bot.send_text(from_user=61, text="/start")
    bad = bot.inject_update(
        "my_chat_member",
        {
            "chat": {"id": 62, "type": "private", "first_name": "U"},
            "from": {"id": 62, "is_bot": False, "first_name": "U"},
            "date": 0,
            "old_chat_member": {
                "user": {"id": 1, "is_bot": True, "first_name": "B"},
                "status": "member",
            },
            "new_chat_member": {
                "user": {"id": 1, "is_bot": True, "first_name": "B"},
                "status": "kicked",
            },
        },
    )
    bot.send_text(from_user=63, text="/start")
    for user in (61, 63):
        assert bot.wait_for_sent(chat_id=user, count=1)[0]["text"].startswith("Hello")
    daemon.wait_for_log(rf"update {bad} could not be read \(TypeError: .*until_date.*\): skipped")
    assert daemon.process is not None
    assert daemon.process.poll() is None  # still running
    assert daemon.query("SELECT count(*) FROM processed_update") == [(3,)]
