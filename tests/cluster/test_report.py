"""How the cluster reads in /status, /health, doctor and the digest (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

from daemon.cluster.report import rows, verdict
from daemon.store.cluster import ClusterView, Lease, NodeRow

NOW = datetime(2026, 11, 30, 12, 0, 0)
LEASE = 10.0


def node(name: str, role: str, seen_ago: float = 1.0, running: bool = True,
         epoch: int = 0) -> NodeRow:  # fmt: skip
    return NodeRow(name, f"host-{name}", 100, "0.9", role, epoch, NOW - timedelta(hours=1),
                   NOW - timedelta(seconds=seen_ago), running)  # fmt: skip


def view(*nodes: NodeRow, holder: str = "a", left: float = 8.0,
         takeover: tuple[datetime, str] | None = None) -> ClusterView:  # fmt: skip
    lease = Lease(holder, 7, NOW - timedelta(minutes=5), NOW + timedelta(seconds=left), NOW)
    return ClusterView(lease, list(nodes), takeover)


def test_status_rows_name_the_leader_epoch_nodes_and_last_failover() -> None:
    shown = rows(
        view(node("a", "leader", epoch=7), node("b", "standby", seen_ago=0.5),
             node("c", "stopped", seen_ago=7200, running=False),
             takeover=(NOW - timedelta(minutes=5), "a took over from b (epoch 6 → 7)")),
        LEASE,
    )  # fmt: skip
    assert shown == [
        ("cluster", "leader a, epoch 7 (since 2026-11-30 11:55:00 UTC, 8s of lease left)"),
        ("node a", "leader, epoch 7 (pid 100 on host-a, v0.9, up 60m, seen 1s ago)"),
        ("node b", "standby (pid 100 on host-b, v0.9, up 60m, seen 0s ago)"),
        ("node c", "stopped 2h ago"),
        ("last failover", "5m ago: a took over from b (epoch 6 → 7)"),
    ]


def test_nobody_holding_a_live_lease_is_down() -> None:
    expired = view(node("a", "leader", seen_ago=30), left=-3)
    assert rows(expired, LEASE)[0] == ("cluster", "DOWN: no node holds a live lease (last epoch 7)")
    assert str(verdict(expired, LEASE, "b")) == "FAIL: no node holds a live lease: nothing polls"


def test_a_running_node_that_stopped_reporting_is_silent() -> None:
    shown = view(node("a", "leader"), node("b", "standby", seen_ago=25))
    assert rows(shown, LEASE)[2] == (
        "node b",
        "standby: SILENT for 25s (pid 100 on host-b, v0.9, up 60m)",
    )
    assert str(verdict(shown, LEASE, "a")) == ("WARN: node b silent (hung, frozen or cut off)")


def test_a_leader_without_a_standby_is_a_warning() -> None:
    alone = view(node("a", "leader"), node("b", "stopped", running=False))
    assert str(verdict(alone, LEASE, "a")) == (
        "WARN: a leads with no standby running: a failover has nowhere to go"
    )


def test_a_healthy_pair_says_who_leads_and_what_this_node_does() -> None:
    pair = view(node("a", "leader"), node("b", "standby"))
    assert str(verdict(pair, LEASE, "b")) == (
        "ok: a leads (epoch 7), standing by: b; this node (b) stands by"
    )
