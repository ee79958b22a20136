"""`tradebotd digest` as a process against the emulator, on a prepared SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from daemon.emulator.client import BotControl
from daemon.store import chats, events, schema, stats
from daemon.store.database import open_database
from tests.support.processes import REPO, TRADEBOTD, Launch, wait_until

ADMIN = 831


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def prepare(state: Path, heartbeat_age: timedelta) -> None:
    """A day's worth of facts, as a daemon would have written them."""
    db = open_database(f"sqlite:///{state / 'tradebotd.db'}")
    schema.upgrade(db)
    now = utcnow()
    with db.atomic():
        events.record("start", now - timedelta(hours=5))
        events.record("start", now - timedelta(hours=2), "after an unclean exit")
        events.record("conflict", now - timedelta(hours=1), "409")
        stats.bump(stats.UPDATES, now, 42)
        chats.count_command("start", now)
        stats.alive_between(now - timedelta(hours=12), now)
        events.set_heartbeat(now - heartbeat_age)
    db.close()


def digest(state: Path, bot: BotControl, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "TELEGRAM_BOT_TOKEN": bot.token,
        "TELEGRAM_API_URL": bot.api_root,
        "ADMIN_IDS": str(ADMIN),
        "STATE_DIRECTORY": str(state),
    }
    return subprocess.run(
        [TRADEBOTD, "digest", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def state(tmp_path: Path, bot: BotControl) -> Path:
    bot.send_text(from_user=ADMIN, text="hi")  # the admin has a chat with the bot
    return tmp_path / "state"


@pytest.fixture
def poller_running(state: Path) -> Iterator[int]:
    """A process holding the daemon's poller lock, as a running tradebotd does."""
    state.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(state / "tradebotd.lock")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    yield holder.pid
    holder.kill()
    holder.wait()


def test_sends_once_per_day_then_only_with_force(
    state: Path, bot: BotControl, launch: Launch
) -> None:
    """A day's facts, then a real daemon on them (one more start, one more update): the
    digest reads them all, and the daemon's sender delivers it."""
    prepare(state, heartbeat_age=timedelta(seconds=20))
    daemon = launch(admin_ids=str(ADMIN), state_directory=state)
    wait_until(
        lambda: daemon.query("SELECT count(*) FROM processed_update") == [(1,)],
        15,
        "the admin's 'hi' handled",
    )
    first = digest(state, bot)
    assert first.returncode == 0, first.stderr
    assert "the running daemon delivers them" in first.stderr
    sent = bot.wait_for_sent(chat_id=ADMIN)
    text = sent[0]["text"]
    assert text.startswith(f"tradebotd daily digest {utcnow().date()}")
    for line in (
        "daemon up: last heartbeat ",
        "uptime 50.",
        "starts 3, of them after a crash or watchdog kill 2",
        "409 conflict episodes 1",
        "updates handled 43",
        "commands run /start 1",
        "errors logged 0",
        "admin commands registered and answering",
    ):
        assert line in text, line
    again = digest(state, bot)
    assert again.returncode == 0
    assert "was sent at" in again.stderr
    assert "nothing to do (--force sends again)" in again.stderr
    assert len(bot.sent(chat_id=ADMIN)) == 1
    assert digest(state, bot, "--force").returncode == 0
    assert len(bot.wait_for_sent(chat_id=ADMIN, count=2)) == 2


def test_a_daemon_killed_seconds_ago_is_reported_down_at_once(
    state: Path, bot: BotControl, launch: Launch
) -> None:
    """kill -9 and nothing restarts it: its heartbeat is seconds old, but no live process
    holds the poller lock, so the digest says DOWN now (not after 3 missed beats)."""
    daemon = launch(admin_ids=str(ADMIN), state_directory=state)
    daemon.wait_for_log(r"\[hb\] alive ")
    daemon.kill9()
    assert digest(state, bot).returncode == 0
    text = bot.wait_for_sent(chat_id=ADMIN)[0]["text"]
    assert "!!! THE DAEMON IS DOWN: nothing is polling Telegram !!!" in text
    assert "DAEMON DOWN: no tradebotd process runs (last heartbeat " in text


@pytest.mark.usefixtures("poller_running")
def test_a_silent_daemon_is_reported_down(state: Path, bot: BotControl) -> None:
    prepare(state, heartbeat_age=timedelta(minutes=30))
    assert digest(state, bot).returncode == 0
    text = bot.wait_for_sent(chat_id=ADMIN)[0]["text"]
    assert "!!! THE DAEMON IS DOWN: nothing is polling Telegram !!!" in text
    assert "DAEMON DOWN: last heartbeat 30m" in text
    # It delivered its digest itself (a hung daemon would never), without polling.
    assert bot.counters()["requests"].get("getUpdates", 0) == 0


@pytest.mark.usefixtures("poller_running")
def test_dry_run_prints_and_sends_nothing(state: Path, bot: BotControl) -> None:
    prepare(state, heartbeat_age=timedelta(seconds=20))
    result = digest(state, bot, "--dry-run", "--period", "week")
    assert result.returncode == 0
    assert result.stdout.startswith("tradebotd weekly digest ")
    assert "uptime " in result.stdout
    assert bot.sent(chat_id=ADMIN) == []


def test_a_failed_send_exits_non_zero_and_leaves_a_dead_letter(
    tmp_path: Path, bot: BotControl
) -> None:
    """The admin never opened a chat with the bot: Telegram refuses, the unit fails, and
    the refusal waits in the dead letters (/health). The period is recorded with what was
    queued; --force queues it again."""
    state = tmp_path / "state"
    prepare(state, heartbeat_age=timedelta(seconds=20))
    result = digest(state, bot)
    assert result.returncode == 1
    day = f"day:{utcnow().date()}"
    assert "the daemon is down: delivering them here" in result.stderr
    assert f"to chat {ADMIN} is a dead letter: Chat not found" in result.stderr
    assert f"digest {day}: 1 of 1 messages could not be delivered" in result.stderr
    assert digest(state, bot, "--force").returncode == 1
    db = open_database(f"sqlite:///{state / 'tradebotd.db'}")
    assert db.execute_sql("SELECT count(*) FROM digest_run").fetchone() == (1,)
    assert db.execute_sql("SELECT count(*) FROM outbox_message WHERE dead").fetchone() == (2,)
    db.close()


def test_with_the_daemon_running_its_sender_delivers_the_digest(
    state: Path, bot: BotControl, launch: Launch
) -> None:
    """One sender for everything: the digest is queued, and the running daemon's sender
    delivers it (paced with the daemon's other messages)."""
    daemon = launch(admin_ids=str(ADMIN), state_directory=state)
    daemon.wait_for_log(r"\[hb\] alive ")
    result = digest(state, bot)
    assert result.returncode == 0, result.stderr
    assert "the running daemon delivers them" in result.stderr
    assert bot.wait_for_sent(chat_id=ADMIN)[0]["text"].startswith("tradebotd daily digest")
    assert daemon.query("SELECT count(*) FROM outbox_message") == [(0,)]


def test_a_second_run_while_one_holds_the_lock_sends_nothing(state: Path, bot: BotControl) -> None:
    """Two digest runs never overlap: the second sees the lock and leaves quietly."""
    prepare(state, heartbeat_age=timedelta(seconds=20))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(state / "digest.lock")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        result = digest(state, bot)
        assert result.returncode == 0
        assert f"another digest run is in progress ({holder.pid}); not starting" in result.stderr
        assert bot.sent(chat_id=ADMIN) == []
    finally:
        holder.kill()
        holder.wait()


HOLD_LOCK = """
import sys, time
from pathlib import Path
from daemon import guard
fd = guard.take_lock_file(Path(sys.argv[1]))
print("held", flush=True)
time.sleep(60)
"""
