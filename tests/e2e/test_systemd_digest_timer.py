"""The shipped digest units under a real systemd: the timer fires, the digest reaches the
admin while the daemon polls the same token, and the emulator counts no 409."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from daemon.emulator.client import BotControl
from tests.e2e.systemd_user import UNITS, UserManager, adapt_to_test, require_user_manager
from tests.support.processes import STARTED, Launch, secrets_in, wait_until

ADMIN = 841


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[UserManager]:
    require_user_manager()
    started = UserManager(tmp_path / "systemd")
    yield started
    started.stop()


def test_the_timer_sends_the_digest_beside_the_polling_daemon(
    tmp_path: Path, bot: BotControl, launch: Launch, manager: UserManager
) -> None:
    bot.send_text(from_user=ADMIN, text="/start")
    daemon = launch(admin_ids=str(ADMIN))
    bot.wait_for_sent(chat_id=ADMIN)
    daemon.wait_for_log(r"\[hb\] alive", count=2)
    # The session's secret scan reads what the digest unit printed to its manager.
    STARTED.append((manager.workdir / "manager.log", secrets_in({"TELEGRAM_BOT_TOKEN": bot.token})))
    env_file = tmp_path / "tradebotd.env"
    env_file.write_text(
        f"TELEGRAM_BOT_TOKEN={bot.token}\n"
        f"TELEGRAM_API_URL={bot.api_root}\n"
        f"ADMIN_IDS={ADMIN}\n"
        f"DATABASE_URL=sqlite:///{daemon.state_directory / 'tradebotd.db'}\n"
        # The daemon's state directory: the digest finds its poller lock there.
        f"STATE_DIRECTORY={daemon.state_directory}\n"
        "PTB_TIMEDELTA=1\n"
    )
    fire_at = datetime.now(UTC) + timedelta(seconds=4)
    timer = (
        (UNITS / "tradebotd-digest.timer")
        .read_text()
        .replace("OnCalendar=*-*-* 08:00:00 UTC", f"OnCalendar=*-*-* {fire_at:%H:%M:%S} UTC")
    )
    assert f"{fire_at:%H:%M:%S}" in timer
    drop_in = adapt_to_test(env_file, daemon.state_directory, "digest --period day")
    manager.install_unit(
        "tradebotd-digest.service", (UNITS / "tradebotd-digest.service").read_text(), drop_in
    )
    manager.install_unit("tradebotd-digest.timer", timer)
    manager.systemctl("start", "tradebotd-digest.timer")
    digest = bot.wait_for_sent(
        chat_id=ADMIN, where=lambda m: "daily digest" in m.get("text", ""), timeout=30
    )[0]
    assert "daemon up: last heartbeat " in digest["text"]
    wait_until(
        lambda: (
            manager.show("tradebotd-digest.service", "ActiveState")["ActiveState"] == "inactive"
        ),
        20,
        "the oneshot finished",
    )
    shown = manager.show("tradebotd-digest.service", "Result", "ExecMainStatus")
    assert shown == {"Result": "success", "ExecMainStatus": "0"}
    assert bot.counters()["conflicts"] == 0
    assert daemon.query("SELECT count(*) FROM digest_run") == [(1,)]
    # The daemon kept polling throughout: it still answers.
    bot.send_text(from_user=ADMIN, text="/whoami")
    bot.wait_for_sent(chat_id=ADMIN, where=lambda m: m.get("text", "").startswith("id — "))
