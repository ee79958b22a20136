"""What an operator of a two-node cluster sees and runs: /status and /health name the
nodes, the leader, the epoch and the last failover; doctor checks the cluster; the
digest is sent once per period whichever nodes' timers fire, with a Cluster section;
legacy-scan never signals a node; a second copy of a node is refused."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from daemon.cluster.member import UPTIME_FLUSH
from daemon.emulator.client import BotControl
from tests.support.cluster import Cluster
from tests.support.postgres import PostgresServer
from tests.support.processes import TRADEBOTD, DaemonProcess, wait_until

ADMIN = 4300


@pytest.fixture
def cluster(tmp_path: Path, bot: BotControl, postgres: PostgresServer) -> Iterator[Cluster]:
    bot.set_flood(enabled=False)
    bot.create_user(ADMIN, "Operator")
    bot.send_text(ADMIN, "hi")  # a chat with the bot, for the digest
    nodes = Cluster(tmp_path, bot, postgres.create_database(), ADMIN)
    nodes.start_all()
    yield nodes
    nodes.stop_all()


def tool(node: DaemonProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """A `tradebotd` command with the node's own settings, as its env file gives them."""
    return subprocess.run([TRADEBOTD, *args], env=node.env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def reply(bot: BotControl, text: str, title: str) -> str:
    before = len(bot.sent(ADMIN))
    bot.send_text(ADMIN, text)
    sent = bot.wait_for_sent(ADMIN, count=before + 1, timeout=15)
    found = [m["text"] for m in sent[before:] if m.get("text", "").startswith(title)]
    assert found, sent[before:]
    return str(found[0])


def test_status_and_health_show_the_nodes_the_leader_and_the_epoch(
    cluster: Cluster, bot: BotControl
) -> None:
    leader = cluster.wait_leader()
    standby = next(name for name in cluster.nodes if name != leader)
    status = reply(bot, "/status", "tradebotd")
    assert f"cluster — leader {leader}, epoch 1 (since " in status
    assert f"node {leader} — leader, epoch 1 (pid {cluster.nodes[leader].pid} on " in status
    assert f"node {standby} — standby (pid {cluster.nodes[standby].pid} on " in status
    assert f"last failover — 0s ago: {leader} took the free lease (epoch 1)" in status
    health = reply(bot, "/health", "Health")
    verdict = f"ok: {leader} leads (epoch 1), standing by: {standby}; this node ({leader}) leads"
    assert f"cluster — {verdict}" in health


def test_doctor_on_each_node_checks_the_cluster(cluster: Cluster) -> None:
    leader = cluster.wait_leader()
    for name, node in cluster.nodes.items():
        checked = tool(node, "doctor", "--json")
        found = {c["name"]: c for c in json.loads(checked.stdout)["checks"]}
        role = "leads" if name == leader else "stands by"
        assert found["cluster"]["level"] == "OK", found["cluster"]
        assert found["cluster"]["detail"].endswith(f"this node ({name}) {role}")
        # Neither node is another's legacy poller.
        assert found["legacy pollers"]["level"] == "OK", found["legacy pollers"]


def test_the_digest_is_sent_once_when_both_nodes_timers_fire(
    cluster: Cluster, bot: BotControl
) -> None:
    cluster.wait_leader()

    def counted_up() -> int:
        rows = cluster.query(
            "SELECT count(*) FROM hourly_stat WHERE substr(name, 1, 8) = 'node.up:'"
        )
        return int(rows[0][0])

    # Each node adds its up time every UPTIME_FLUSH seconds: wait for both.
    wait_until(lambda: counted_up() == 2, UPTIME_FLUSH + 10, "both nodes' up time counted")
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda node: tool(node, "digest"), cluster.nodes.values()))
    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    digests = bot.wait_for_sent(ADMIN, where=lambda m: "daily digest" in m.get("text", ""))
    time.sleep(1)  # a second digest would show by now
    digests = [m for m in bot.sent(ADMIN) if "daily digest" in m.get("text", "")]
    assert len(digests) == 1
    text = digests[0]["text"]
    assert "Cluster" in text
    assert "leader " in text
    assert "node a: up " in text
    assert "node b: up " in text


def test_legacy_scan_never_signals_a_node_of_the_cluster(cluster: Cluster) -> None:
    cluster.wait_leader()
    scanned = tool(cluster.nodes["b"], "legacy-scan", "--stop")
    assert scanned.returncode == 0, scanned.stdout + scanned.stderr
    for name, node in cluster.nodes.items():
        assert f"legacy-scan: pid {node.pid} is node {name} of this cluster: spared" in (
            scanned.stdout
        )
        assert node.process is not None
        assert node.process.poll() is None  # still running
    assert "no other poller of this token found" in scanned.stdout


def test_a_second_copy_of_a_node_is_refused_but_other_nodes_may_share_the_host(
    cluster: Cluster, tmp_path: Path
) -> None:
    """The host-wide guard is keyed by token and node name: a and b run side by side
    (the fixture), a second a with its own state directory exits 75."""
    cluster.wait_leader()
    again = DaemonProcess(tmp_path, cluster.bot, name="a-again", admin_ids=str(ADMIN),
                          state_directory=tmp_path / "state-a-again",
                          config=cluster.nodes["a"].config_path.read_text(),
                          env={"DATABASE_URL": cluster.database_url}).start()  # fmt: skip
    assert again.wait_exit(30) == 75
    assert "already holds the host-wide guard for this token" in again.log()
