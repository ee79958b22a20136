"""Two real nodes of one cluster (one PostgreSQL database, one emulator bot): exactly one
polls, a standby takes over when the leader dies, freezes or loses the database, and
nothing is lost or applied twice (docs/ha.md)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon.emulator.client import BotControl
from tests.support.cluster import LEASE, Cluster, overlapping_polls
from tests.support.postgres import PostgresServer, start_server
from tests.support.processes import TRADEBOTD, wait_until
from tests.support.tcp_proxy import CuttableProxy
from tests.trading.test_paper_daemon import paper_sections

ADMIN = 4200


@pytest.fixture
def cluster(tmp_path: Path, bot: BotControl, postgres: PostgresServer) -> Iterator[Cluster]:
    bot.create_user(ADMIN, "Operator")
    nodes = Cluster(tmp_path, bot, postgres.create_database(), ADMIN)
    yield nodes
    nodes.stop_all()


def whoami_replies(bot: BotControl) -> int:
    return sum(1 for m in bot.sent(ADMIN) if "4200" in str(m.get("text", "")))


def ask(bot: BotControl) -> None:
    """One /whoami, answered exactly once."""
    before = whoami_replies(bot)
    bot.send_text(ADMIN, "/whoami")
    wait_until(lambda: whoami_replies(bot) > before, 10, "the /whoami reply")
    time.sleep(0.3)
    assert whoami_replies(bot) == before + 1


def no_overlap_and_no_conflict(bot: BotControl) -> None:
    counters = bot.counters()
    assert overlapping_polls(bot.polls()) == []
    assert counters["conflicts"] == 0, counters["events"]


def test_one_node_leads_and_the_other_stands_by(cluster: Cluster, bot: BotControl) -> None:
    """The first node takes the free lease and polls; the second stands by without a
    single getUpdates, and says so."""
    leader = cluster.start_all()
    standby = next(name for name in cluster.nodes if name != leader)
    cluster.nodes[standby].wait_for_log("standing by")
    ask(bot)
    time.sleep(LEASE)
    assert "Polling service started successfully" not in cluster.nodes[standby].log()
    assert cluster.lease_row() == (leader, 1)
    no_overlap_and_no_conflict(bot)


def test_a_killed_leader_is_replaced_within_the_lease_and_two_seconds(
    cluster: Cluster, bot: BotControl
) -> None:
    """kill -9 the leader: the standby leads within lease + 2 s, from the committed
    offset (a command sent while nobody polled is answered once), with no 409."""
    leader = cluster.start_all()
    standby = next(name for name in cluster.nodes if name != leader)
    ask(bot)
    killed_at = time.monotonic()
    cluster.nodes[leader].kill9()
    bot.send_text(ADMIN, "/whoami")
    wait_until(lambda: cluster.leader() == standby, LEASE + 2, "the standby leads")
    assert time.monotonic() - killed_at <= LEASE + 2
    cluster.wait_leader()
    wait_until(lambda: whoami_replies(bot) == 2, 10, "the /whoami sent while nobody polled")
    assert cluster.lease_row() == (standby, 2)
    no_overlap_and_no_conflict(bot)


def test_a_frozen_leader_steps_down_when_resumed_and_commits_nothing(
    cluster: Cluster, bot: BotControl
) -> None:
    """SIGSTOP the leader past its lease: the standby takes over; SIGCONT: the old
    leader finds its epoch gone, steps down in-process and stands by."""
    leader = cluster.start_all()
    standby = next(name for name in cluster.nodes if name != leader)
    old = cluster.nodes[leader]
    old.signal(signal.SIGSTOP)
    try:
        wait_until(lambda: cluster.leader() == standby, LEASE + 2, "the standby leads")
        cluster.wait_leader(other_than=leader)
        ask(bot)
    finally:
        old.signal(signal.SIGCONT)
    old.wait_for_log("steps down from epoch 1", timeout=LEASE * 2)
    old.wait_for_log("standing by", timeout=LEASE * 2, count=2)
    assert cluster.lease_row() == (standby, 2)
    ask(bot)
    no_overlap_and_no_conflict(bot)


def fills(cluster: Cluster) -> dict[str, int]:
    try:
        rows = cluster.query("SELECT side, COUNT(*) FROM paper_fill GROUP BY side")
    except Exception:  # the schema is not created yet
        return {}
    return {str(side): int(count) for side, count in rows}


def trades(cluster: Cluster) -> int:
    return sum(n for side, n in fills(cluster).items() if side != "deposit")


def ledger_check(cluster: Cluster) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": cluster.database_url,
           "STATE_DIRECTORY": str(cluster.workdir / "state-check")}  # fmt: skip
    return subprocess.run([TRADEBOTD, "ledger", "check"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


DRILLS = 20


def test_twenty_kill9_drills_lose_nothing_and_apply_nothing_twice(
    tmp_path: Path, bot: BotControl, postgres: PostgresServer
) -> None:
    """Alternating /buy and /sell stream in while the leader is killed with SIGKILL at a
    random point, 20 times, the killed node restarted each time as the standby: every
    command fills exactly once, the books balance, each takeover comes within lease +
    2 s, and no two getUpdates ever overlapped."""
    bot.set_flood(enabled=False)
    bot.create_user(ADMIN, "Operator")
    cluster = Cluster(tmp_path, bot, postgres.create_database(), ADMIN,
                      extra_config=paper_sections(tmp_path))  # fmt: skip
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    sent = 0

    def stream(count: int) -> None:
        nonlocal sent
        for _ in range(count):
            bot.send_text(ADMIN, f"/{'buy' if sent % 2 == 0 else 'sell'} BTC/USDT 0.001")
            sent += 1

    try:
        leader = cluster.start_all()
        failovers = []
        for drill in range(DRILLS):
            stream(rng.randrange(5, 15))
            target = min(sent, trades(cluster) + rng.randrange(0, 10))
            wait_until(lambda t=target: trades(cluster) >= t, 30,  # type: ignore[misc]
                       f"{target} fills (seed {seed})")  # fmt: skip
            killed_at = time.monotonic()
            cluster.nodes[leader].kill9()
            stream(rng.randrange(1, 6))  # these arrive while nobody polls
            standby = next(name for name in cluster.nodes if name != leader)
            wait_until(lambda s=standby: cluster.leader() == s, LEASE + 2,  # type: ignore[misc]
                       f"drill {drill}: {standby} leads (seed {seed})")  # fmt: skip
            failovers.append(time.monotonic() - killed_at)
            cluster.start(leader)  # back as the standby
            leader = standby
            cluster.wait_leader()
        wait_until(lambda: trades(cluster) >= sent, 60, f"all {sent} fills (seed {seed})")
        time.sleep(1.5)  # anything applied twice would show by now
        assert fills(cluster) == {"deposit": 1, "buy": (sent + 1) // 2, "sell": sent // 2}, seed
        assert max(failovers) <= LEASE + 2, failovers
    finally:
        cluster.stop_all()
    checked = ledger_check(cluster)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    no_overlap_and_no_conflict(bot)
    assert cluster.lease_row()[1] == DRILLS + 1


def test_a_leader_cut_from_the_database_steps_down_before_the_standby_takes_over(
    tmp_path: Path, bot: BotControl, postgres: PostgresServer
) -> None:
    """Node a reaches PostgreSQL through a proxy that is then cut (every connection
    reset, new ones refused): a's renewals fail, it stops polling before its permit
    ends, b takes over within lease + 2 s, and no two getUpdates overlap. Healed, a
    stands by."""
    bot.create_user(ADMIN, "Operator")
    url = postgres.create_database()
    proxy = CuttableProxy(("127.0.0.1", postgres.port))
    proxied = url.replace(f":{postgres.port}/", f":{proxy.port}/")
    cluster = Cluster(tmp_path, bot, url, ADMIN)
    try:
        cluster.node_env["a"] = {"DATABASE_URL": proxied}
        cluster.start("a").wait_polling()
        cluster.start("b").wait_for_log("standing by")
        ask(bot)
        cut_at = time.monotonic()
        proxy.cut()
        wait_until(lambda: cluster.leader() == "b", LEASE + 2, "b leads")
        assert time.monotonic() - cut_at <= LEASE + 2
        cluster.nodes["a"].wait_for_log("steps down from epoch 1", timeout=1)
        ask(bot)
        proxy.heal()
        cluster.nodes["a"].wait_for_log("standing by", count=2, timeout=LEASE * 2)
        ask(bot)
    finally:
        cluster.stop_all()
        proxy.close()
    assert cluster.lease_row()[0] == ""  # b released it at its clean stop
    no_overlap_and_no_conflict(bot)


def test_a_postgresql_restart_mid_stream_loses_nothing(tmp_path: Path, bot: BotControl) -> None:
    """Commands stream in while PostgreSQL restarts (every connection cut): the leader
    rides it out or hands over; every command is answered and applied exactly once
    (a reply may repeat: replies are at least once)."""
    bot.create_user(ADMIN, "Operator")
    server = start_server()
    try:
        cluster = Cluster(tmp_path, bot, server.create_database(), ADMIN)
        try:
            cluster.start_all()
            for _ in range(10):
                bot.send_text(ADMIN, "/whoami")
            server.restart()
            for _ in range(10):
                bot.send_text(ADMIN, "/whoami")
            wait_until(lambda: whoami_replies(bot) >= 20, 30, "20 replies")
            cluster.wait_leader()
            assert server.query(cluster.database_url,
                                "SELECT count(*) FROM processed_update") == [(20,)]  # fmt: skip
        finally:
            cluster.stop_all()
    finally:
        server.stop()
    no_overlap_and_no_conflict(bot)
