"""`make install` on a booted systemd, as an operator would, with a legacy poller running.

One long scenario in a throw-away container (tests/e2e/container.py): a plain bot script
polls the token (started by hand, plus a cron line); `make install` removes it and starts
tradebotd; then the service is exercised as an operator would with systemctl and
journalctl, and `make uninstall` leaves no unit behind. `make e2e` runs just this.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.emulator.client import BotControl
from tests.e2e.container import Container, require_container
from tests.support.cluster import LEASE, node_config
from tests.support.postgres import PostgresServer
from tests.support.processes import REPO, DaemonProcess, wait_until

ADMIN = 851
LEGACY_BOT = """\
import json, time, urllib.request
URL = "{api}/bot{token}/getUpdates"
while True:
    request = urllib.request.Request(
        URL, data=json.dumps({{"timeout": 2}}).encode(),
        headers={{"Content-Type": "application/json", "User-Agent": "legacy-bot.py"}},
    )
    try:
        urllib.request.urlopen(request, timeout=10).read()
    except Exception:
        time.sleep(0.2)
"""
# The same script kept alive by a unit of its own, as some hosts have it.
LEGACY_UNIT = (
    "[Service]\\nExecStart=/usr/bin/python3 /srv/oldbot/bot.py\\nRestart=always\\n"
    "[Install]\\nWantedBy=multi-user.target\\n"
)
# A shorter watchdog than the shipped 90 s, so the SIGSTOP check takes seconds.
WATCHDOG_DROP_IN = "[Service]\nWatchdogSec=6\nRestartSec=1\n"

pytestmark = pytest.mark.container


def copy_checkout(target: Path) -> None:
    """The files git knows (committed or not), as the operator's checkout would have."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(source.read_bytes())
            (target / name).chmod(source.stat().st_mode)


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    require_container()
    source = tmp_path / "src"
    source.mkdir()
    copy_checkout(source)
    booted = Container(tmp_path, source)
    yield booted
    booted.stop()


def legacy_get_updates(bot: BotControl) -> int:
    return bot.counters()["by_user_agent"].get("legacy-bot.py", {}).get("get_updates", 0)


def test_make_install_replaces_a_legacy_poller_and_runs_as_a_service(
    container: Container, bot: BotControl
) -> None:
    bot.set_flood(enabled=False)
    bot.send_text(from_user=ADMIN, text="hi")  # the admin has a chat (menus, digest)
    run = container.run

    # --- an old bot, the way such hosts look -----------------------------------------------
    run("mkdir -p /srv/oldbot /etc/cron.d")
    legacy = LEGACY_BOT.format(api=bot.api_root, token=bot.token)
    run(f"cat > /srv/oldbot/bot.py <<'EOF'\n{legacy}EOF")
    run("echo '@reboot root python3 /srv/oldbot/bot.py' > /etc/cron.d/oldbot")
    run("nohup python3 /srv/oldbot/bot.py > /dev/null 2>&1 &")
    run(f"printf '{LEGACY_UNIT}' > /etc/systemd/system/oldbot.service")
    run("systemctl daemon-reload && systemctl enable --now oldbot.service")
    wait_until(lambda: legacy_get_updates(bot) > 0, 20, "the legacy bot polling")

    # --- the operator's settings and a quicker watchdog, then make install ------------------
    run("mkdir -p /etc/systemd/system/tradebotd.service.d")
    run(f"printf '{WATCHDOG_DROP_IN}' > /etc/systemd/system/tradebotd.service.d/test.conf")
    # First without a token, as a non-interactive install: everything but the service.
    bare = run("cd /src && make install", timeout=900, env={"PYTHON": "/usr/bin/python3"})
    assert "install: no token yet: fill in TELEGRAM_BOT_TOKEN and ADMIN_IDS" in bare.stdout
    assert run("systemctl is-active tradebotd", check=False).stdout.strip() == "inactive"
    # Without a token nothing can be matched, so the legacy bot still runs.
    assert run("pgrep -f '^python3 /srv/oldbot/bot.py'", check=False).returncode == 0

    # The operator fills in the env file and installs again (the file is kept).
    env_file = "/etc/tradebotd/tradebotd.env"
    run(
        f"sed -i -e 's|^TELEGRAM_BOT_TOKEN=.*|TELEGRAM_BOT_TOKEN={bot.token}|' "
        f"-e 's|^ADMIN_IDS=.*|ADMIN_IDS={ADMIN}|' {env_file} && "
        f"printf 'TELEGRAM_API_URL={bot.api_root}\\nHEARTBEAT_INTERVAL=2\\n' >> {env_file}"
    )
    install = run(
        "cd /src && make install",
        timeout=900,
        env={"LEGACY_SCRIPTS": "/srv/oldbot/bot.py", "PYTHON": "/usr/bin/python3"},
    )
    assert "install: tradebotd is polling" in install.stdout, install.stdout
    assert "legacy-scan: process pid " in install.stdout
    bot.reset_counters()

    # --- the legacy bot is gone, tradebotd polls ---------------------------------------------
    # Anchored: an unanchored pattern would match this very shell's command line.
    assert run("pgrep -f '^python3 /srv/oldbot/bot.py'", check=False).returncode == 1
    assert run("cat /etc/cron.d/oldbot").stdout.startswith("# disabled by tradebotd legacy-scan")
    assert run("systemctl is-enabled oldbot", check=False).stdout.strip() == "disabled"
    assert run("systemctl is-active oldbot", check=False).stdout.strip() == "inactive"
    assert run("systemctl is-active tradebotd").stdout.strip() == "active"
    wait_until(lambda: "[hb] alive offset=" in container.journal("tradebotd"), 30, "[hb]")
    assert "Polling service started successfully" in container.journal("tradebotd")
    bot.send_text(from_user=ADMIN, text="/whoami")
    bot.wait_for_sent(chat_id=ADMIN, where=lambda m: m["text"].startswith("id — "), timeout=20)

    # --- a frozen poller is restarted by the watchdog ----------------------------------------
    before = int(container.show("tradebotd", "NRestarts")["NRestarts"])
    # The main process: signalling the whole cgroup failed once in CI with EIO for
    # "auxiliary processes" (systemd 252 in a volatile container).
    run("systemctl kill --kill-whom=main -s SIGSTOP tradebotd")
    wait_until(
        lambda: int(container.show("tradebotd", "NRestarts")["NRestarts"]) > before,
        40,
        "a watchdog restart",
    )
    wait_until(
        lambda: container.show("tradebotd", "ActiveState")["ActiveState"] == "active", 30, ""
    )
    assert "Failed with result 'watchdog'" in run("journalctl -u tradebotd --no-pager").stdout
    bot.send_text(from_user=ADMIN, text="/whoami")
    bot.wait_for_sent(chat_id=ADMIN, count=2, where=lambda m: m["text"].startswith("id — "))

    # --- doctor, as the service user and as root: the service, the watchdog kill, the timer --
    doctor_env = "--env-file /etc/tradebotd/tradebotd.env"
    doctor = run(f"/opt/tradebotd/venv/bin/tradebotd doctor {doctor_env}", check=False)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "held by pid " in doctor.stdout
    assert " in tradebotd.service: " in doctor.stdout
    assert "OK    digest timer    tradebotd-digest.timer active, next " in doctor.stdout
    assert "the watchdog killed it at " in doctor.stdout  # from the journal, as root
    # setpriv, not runuser or su: no PAM session, which fails when entered by nsenter.
    as_user = "setpriv --reuid=tradebotd --regid=tradebotd --init-groups"
    as_service_user = run(
        f"{as_user} /opt/tradebotd/venv/bin/tradebotd doctor {doctor_env}", check=False
    )
    assert "OK    database        /var/lib/tradebotd/tradebotd.db: integrity ok" in (
        as_service_user.stdout
    ), as_service_user.stdout + as_service_user.stderr
    # A backup as the service user, beside the running daemon.
    backup = run(f"{as_user} /opt/tradebotd/venv/bin/tradebotd backup {doctor_env}")
    assert "backup: wrote /var/lib/tradebotd/backups/tradebotd-" in backup.stderr

    # --- reload is not a restart --------------------------------------------------------------
    main_pid = container.show("tradebotd", "MainPID")["MainPID"]
    run("systemctl reload tradebotd")
    wait_until(lambda: "reloaded configuration" in container.journal("tradebotd"), 20, "reload")
    assert container.show("tradebotd", "MainPID")["MainPID"] == main_pid

    # --- the digest timers, and the digest itself --------------------------------------------
    timers = run("systemctl list-timers --all --no-pager").stdout
    assert "tradebotd-digest.timer" in timers
    assert "tradebotd-digest-weekly.timer" in timers
    run("systemctl start tradebotd-digest.service", timeout=120)
    bot.wait_for_sent(chat_id=ADMIN, where=lambda m: "daily digest" in m["text"], timeout=30)

    # --- every installed unit verifies; an upgrade never runs two pollers -------------------
    run("cd /etc/systemd/system && systemd-analyze verify tradebotd*.service tradebotd*.timer")
    upgrade = run("cd /src && make upgrade", timeout=900, env={"PYTHON": "/usr/bin/python3"})
    assert "install: kept /etc/tradebotd/tradebotd.env" in upgrade.stdout
    assert "install: tradebotd is polling" in upgrade.stdout

    # --- no fight at any point after install ------------------------------------------------
    assert bot.counters()["conflicts"] == 0

    # --- a clean stop, then nothing left behind -----------------------------------------------
    run("systemctl stop tradebotd")
    assert "stopped after" in container.journal("tradebotd")
    # The whole journal (every unit, the watchdog's stack dump, the digest, the installs'
    # legacy scans) never shows the token.
    assert bot.token.split(":", 1)[1] not in run("journalctl --no-pager -o cat").stdout
    assert container.show("tradebotd", "ExecMainStatus")["ExecMainStatus"] == "0"
    run("cd /src && make uninstall")
    left = run("ls /etc/systemd/system/", check=False).stdout.split()
    assert [f for f in left if f.startswith("tradebotd") and not f.endswith(".d")] == []
    listed = run("systemctl list-unit-files 'tradebotd*' --no-pager", check=False).stdout
    assert "0 unit files listed" in listed
    stamps = run("ls /var/lib/systemd/timers/", check=False).stdout
    assert "tradebotd" not in stamps  # the timers' Persistent= state went too


def test_make_install_of_a_second_node_stands_by_then_takes_over(
    container: Container, bot: BotControl, postgres: PostgresServer, tmp_path: Path
) -> None:
    """[ha]: node a runs on this host; `make install` of node b in the container (same
    token, same PostgreSQL) succeeds with b standing by, its legacy scan leaves a alone;
    a killed, b takes over and answers."""
    bot.set_flood(enabled=False)
    bot.send_text(from_user=ADMIN, text="hi")
    url = postgres.create_database()
    node_a = DaemonProcess(tmp_path, bot, name="a", admin_ids=str(ADMIN),
                           config=node_config("a"), env={"DATABASE_URL": url}).start()  # fmt: skip
    try:
        node_a.wait_polling(30)
        run = container.run
        run("mkdir -p /etc/tradebotd")
        env_file = (
            f"TELEGRAM_BOT_TOKEN={bot.token}\nADMIN_IDS={ADMIN}\nPOLLING_ENABLED=1\n"
            "TRADEBOTD_CONFIG=/etc/tradebotd/config.toml\nSTATE_DIRECTORY=/var/lib/tradebotd\n"
            f"TELEGRAM_API_URL={bot.api_root}\nDATABASE_URL={url}\n"
        )
        run(f"cat > /etc/tradebotd/tradebotd.env <<'EOF'\n{env_file}EOF")
        run(f"cat > /etc/tradebotd/config.toml <<'EOF'\n{node_config('b')}\nEOF")
        install = run("cd /src && make install", timeout=900, env={"PYTHON": "/usr/bin/python3"})
        assert "install: tradebotd started as a cluster node: standby (leader: a since " in (
            install.stdout
        ), install.stdout
        assert node_a.process is not None
        assert node_a.process.poll() is None  # the installer's legacy scan spared it
        assert "Polling service started successfully" not in container.journal("tradebotd")
        node_a.kill9()
        wait_until(
            lambda: (
                "Polling service started successfully (node b, epoch 2)"
                in container.journal("tradebotd")
            ),
            LEASE + 10,
            "node b takes over",
        )
        bot.send_text(from_user=ADMIN, text="/whoami")
        bot.wait_for_sent(chat_id=ADMIN, where=lambda m: m["text"].startswith("id — "))
        assert bot.counters()["conflicts"] == 0
    finally:
        node_a.stop()
