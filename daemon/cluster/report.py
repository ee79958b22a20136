"""The cluster as people read it: rows for /status and the digest, a verdict for
/health and doctor. Pure: a ClusterView and the lease length in, text out."""

from __future__ import annotations

from dataclasses import dataclass

from daemon.store.cluster import ClusterView, NodeRow
from daemon.vitals import rough_age

# A running node's lease loop writes its row every round (a second or so); silent this
# many leases, it is hung, frozen or cut from the database.
SILENT_LEASES = 2


def silent_after(lease: float) -> float:
    return SILENT_LEASES * lease


def _node_text(node: NodeRow, view: ClusterView, lease: float) -> str:
    now = view.lease.now if view.lease is not None else node.seen_at
    age = (now - node.seen_at).total_seconds()
    if not node.running:
        return f"stopped {rough_age(age)} ago"
    role = node.role
    if node.role == "leader":
        role = f"leader, epoch {node.epoch}"
    up = rough_age((now - node.started_at).total_seconds())
    where = f"pid {node.pid} on {node.host}, v{node.version}, up {up}"
    if age > silent_after(lease):
        return f"{role}: SILENT for {rough_age(age)} ({where})"
    return f"{role} ({where}, seen {rough_age(age)} ago)"


def rows(view: ClusterView, lease: float) -> list[tuple[str, str]]:
    """("cluster", …), one ("node NAME", …) per node, ("last failover", …)."""
    found: list[tuple[str, str]] = []
    current = view.lease
    if current is not None and current.live:
        left = (current.expires_at - current.now).total_seconds()
        found.append(("cluster", f"leader {current.holder}, epoch {current.epoch} "
                                 f"(since {current.since:%Y-%m-%d %H:%M:%S} UTC, "
                                 f"{left:.0f}s of lease left)"))  # fmt: skip
    else:
        epoch = current.epoch if current is not None else 0
        found.append(("cluster", f"DOWN: no node holds a live lease (last epoch {epoch})"))
    found += [(f"node {node.name}", _node_text(node, view, lease)) for node in view.nodes]
    if view.last_takeover is not None:
        at, detail = view.last_takeover
        ago = (current.now - at).total_seconds() if current is not None else 0.0
        found.append(("last failover", f"{rough_age(ago)} ago: {detail}"))
    else:
        found.append(("last failover", "none"))
    return found


@dataclass(frozen=True)
class Verdict:
    level: str  # "ok", "WARN", "FAIL"
    text: str

    def __str__(self) -> str:
        return f"{self.level}: {self.text}"


def verdict(view: ClusterView, lease: float, node: str) -> Verdict:
    """FAIL when nobody leads; WARN when a running node is silent or no standby is
    running (a failover would have nowhere to go); ok otherwise."""
    current = view.lease
    if current is None or not current.live:
        return Verdict("FAIL", "no node holds a live lease: nothing polls")
    now = current.now
    running = [n for n in view.nodes if n.running]
    silent = [n.name for n in running if (now - n.seen_at).total_seconds() > silent_after(lease)]
    if silent:
        return Verdict("WARN", f"node {', '.join(silent)} silent (hung, frozen or cut off)")
    standbys = [n.name for n in running if n.name != current.holder]
    if not standbys:
        return Verdict(
            "WARN", f"{current.holder} leads with no standby running: a failover has nowhere to go"
        )
    role = "leads" if current.holder == node else "stands by"
    return Verdict(
        "ok",
        f"{current.holder} leads (epoch {current.epoch}), standing by: {', '.join(standbys)}; "
        f"this node ({node}) {role}",
    )
