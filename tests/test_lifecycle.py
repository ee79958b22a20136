"""The daemon as a process against the emulator: start order, single poller, signals."""

from __future__ import annotations

import signal
from pathlib import Path

from daemon.emulator.client import BotControl
from tests.support.processes import Launch, NotifySocket, wait_until
from tests.telegram.test_webhook_mode import free_port


def test_replies_to_start_and_logs_polling_started(bot: BotControl, launch: Launch) -> None:
    """A polling daemon answers /start, and says polling is live exactly once."""
    daemon = launch()
    bot.send_text(from_user=501, text="/start")
    reply = bot.wait_for_sent(chat_id=501)[0]
    assert reply["text"].startswith("Hello")
    assert daemon.log().count("Polling service started successfully") == 1


def test_second_copy_on_same_state_directory_is_refused_before_any_request(
    bot: BotControl, launch: Launch
) -> None:
    """A second copy exits non-zero naming the holder's PID, and never calls the API."""
    first = launch(name="first")
    requests_before = bot.counters()["requests"]
    second = launch(name="second", state_directory=first.state_directory, polling_started=False)
    assert second.wait_exit() == 75
    assert f"another tradebotd (pid {first.pid}) already holds the lock" in second.log()
    counters = bot.counters()
    assert counters["requests"].get("getMe") == requests_before.get("getMe") == 1
    assert counters["conflicts"] == 0


def test_second_copy_with_another_state_directory_is_refused_by_the_host_guard(
    tmp_path: Path, bot: BotControl, launch: Launch
) -> None:
    """Same token, different state dir: the host-wide guard names the holder's PID."""
    first = launch(name="first")
    second = launch(name="second", state_directory=tmp_path / "elsewhere", polling_started=False)
    assert second.wait_exit() == 75
    assert (
        f"another tradebotd (pid {first.pid}) already holds the host-wide guard for this token"
        in second.log()
    )
    assert bot.counters()["requests"].get("getMe") == 1
    assert bot.counters()["conflicts"] == 0


def test_webhook_left_from_before_is_deleted_and_its_pending_update_processed(
    bot: BotControl, launch: Launch
) -> None:
    """A leftover webhook is logged at WARNING with its URL, deleted, updates kept."""
    bot.set_webhook_elsewhere("https://old-host.example/hook")
    bot.send_text(from_user=502, text="/start")
    daemon = launch()
    assert bot.wait_for_sent(chat_id=502)[0]["text"].startswith("Hello")
    log = daemon.log()
    assert "WARNING  a webhook is set (https://old-host.example/hook, 1 pending updates)" in log
    assert bot.summary()["webhook"] is None
    assert bot.counters()["conflicts"] == 0


def test_sigterm_sends_stopping_stores_the_offset_and_exits_zero(
    bot: BotControl, launch: Launch, notify_socket: NotifySocket
) -> None:
    """SIGTERM: STOPPING=1, exit 0, the offset past the last update is in the database."""
    daemon = launch(env={"NOTIFY_SOCKET": str(notify_socket.path)}, polling_started=False)
    notify_socket.wait_for("READY=1")
    sent = [bot.send_text(from_user=user, text="/start") for user in (601, 602, 603)]
    bot.wait_for_sent(count=3)
    daemon.signal(signal.SIGTERM)
    assert daemon.wait_exit(10) == 0
    notify_socket.wait_for("STOPPING=1")
    last_update_id = max(s["update_id"] for s in sent)
    assert daemon.query("SELECT value FROM key_value WHERE key = 'poll.offset'") == [
        (str(last_update_id + 1),)
    ]
    assert "stopped after" in daemon.log()


def test_ready_status_and_heartbeat_lines(
    bot: BotControl, launch: Launch, notify_socket: NotifySocket
) -> None:
    """READY=1 comes with a STATUS; the heartbeat logs `[hb] alive offset=N` and refreshes it."""
    daemon = launch(env={"NOTIFY_SOCKET": str(notify_socket.path)}, polling_started=False)
    notify_socket.wait_for("READY=1")
    bot.send_text(from_user=604, text="/start")
    bot.wait_for_sent(chat_id=604)
    daemon.wait_for_log(r"\[hb\] alive offset=\d+ updates=1 ", timeout=5)
    statuses = notify_socket.lines("STATUS=")
    assert statuses[0].startswith("STATUS=polling; offset=")
    wait_until(lambda: any("updates=1" in s for s in notify_socket.lines("STATUS=")), 5, "STATUS")


def test_without_polling_enabled_it_never_calls_get_updates(
    bot: BotControl, launch: Launch, notify_socket: NotifySocket
) -> None:
    """POLLING_ENABLED=0: getMe, no getUpdates, no webhook change, and it says so."""
    daemon = launch(
        polling=False,
        env={"NOTIFY_SOCKET": str(notify_socket.path), "WATCHDOG_USEC": "1000000"},
        polling_started=False,
    )
    notify_socket.wait_for("READY=1")
    notify_socket.wait_for("WATCHDOG=1", count=3, timeout=5)
    assert "NOT polling (POLLING_ENABLED is not 1)" in daemon.log()
    requests = bot.counters()["requests"]
    assert requests.get("getUpdates", 0) == 0
    assert requests.get("getWebhookInfo", 0) == 0
    assert daemon.stop() == 0


def test_sighup_reloads_and_a_bad_config_keeps_the_running_one(
    bot: BotControl, launch: Launch, notify_socket: NotifySocket
) -> None:
    """SIGHUP: RELOADING=1 then READY=1; an invalid file is reported and changes nothing."""
    daemon = launch(env={"NOTIFY_SOCKET": str(notify_socket.path)}, polling_started=False)
    notify_socket.wait_for("READY=1")
    daemon.config_path.write_text(daemon.config_path.read_text() + "\n[polling2]\n")
    daemon.signal(signal.SIGHUP)
    notify_socket.wait_for("RELOADING=1")
    notify_socket.wait_for("READY=1", count=2)
    daemon.wait_for_log(
        rf"ERROR    reload failed, keeping the running configuration: {daemon.config_path}:"
        r" unknown section \[polling2\]"
    )
    bot.send_text(from_user=605, text="/start")
    assert bot.wait_for_sent(chat_id=605)[0]["text"].startswith("Hello")
    daemon.config_path.write_text(daemon.config_path.read_text().replace("[polling2]", ""))
    daemon.signal(signal.SIGHUP)
    daemon.wait_for_log("INFO     reloaded configuration")
    notify_socket.wait_for("READY=1", count=3)
    assert daemon.stop() == 0


def test_the_token_never_reaches_the_log_even_at_debug(bot: BotControl, launch: Launch) -> None:
    """Start, commands, a 5xx and a conflict at DEBUG: the secret appears nowhere."""
    daemon = launch(admin_ids="606", env={"LOG_LEVEL": "DEBUG"}, polling_started=False)
    daemon.wait_polling()
    bot.add_fault("status", method="getUpdates", times=1, status=500)
    bot.add_fault("conflict", method="getUpdates", times=1)
    for text in ("/start", "/status", "/help"):
        bot.send_text(from_user=606, text=text)
    bot.wait_for_sent(chat_id=606, count=3)
    assert daemon.stop() == 0
    log = daemon.log()
    assert "DEBUG" in log
    assert bot.token.split(":", 1)[1] not in log


def test_the_webhook_secret_never_reaches_the_log_even_at_debug(
    bot: BotControl, launch: Launch
) -> None:
    """At DEBUG, PTB's telegram._bot logs every API call's parameters, setWebhook's
    secret_token included: the redactor masks every secret, not only the token."""
    port = free_port()
    secret = "webhook-secret-never-logged"
    daemon = launch(
        polling=False,
        polling_started=False,
        env={
            "LOG_LEVEL": "DEBUG",
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
            "WEBHOOK_SECRET": secret,
            "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
        },
    )
    daemon.wait_for_log("webhook mode: Telegram delivers to ")
    bot.send_text(from_user=606, text="/start")
    bot.wait_for_sent(chat_id=606, count=1)
    assert daemon.stop() == 0
    log = daemon.log()
    assert "set_webhook" in log or "setWebhook" in log  # PTB did log the call
    assert secret not in log


def test_a_component_that_fails_stops_the_daemon_cleanly_with_its_exit_code(
    bot: BotControl, launch: Launch
) -> None:
    """The token is revoked while the daemon runs: the poller's getUpdates gets 401, the
    poller ends, and the daemon stops everything and exits 78 (EX_CONFIG, which the
    unit's RestartPreventExitStatus= keeps from a restart loop) instead of running on
    without a poller. The next start knows it was no clean stop."""
    daemon = launch()
    bot.revoke_token()
    assert daemon.wait_exit(timeout=30) == 78
    daemon.wait_for_log("poller ended unexpectedly: ")
    daemon.wait_for_log(r"stopped after .* status=78")
    assert daemon.query("SELECT kind, detail FROM event ORDER BY id DESC LIMIT 1") == [
        ("failure", "status 78")
    ]
