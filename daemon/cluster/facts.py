"""The cluster's rows and verdict for whoever shows them (/status, /health, the digest),
read from the database in the caller's transaction; nothing without `[ha]`."""

from __future__ import annotations

import socket

from daemon.cluster import report
from daemon.config import Settings
from daemon.store import cluster
from daemon.store.database import StoreError, open_read_only


def cluster_rows(settings: Settings) -> list[tuple[str, str]] | None:
    """The nodes, the leader, the epoch and the last failover; None without [ha]."""
    if not settings.ha.enabled:
        return None
    return report.rows(cluster.view(), settings.ha.lease)


def cluster_health(settings: Settings) -> list[tuple[str, str]]:
    """/health's "cluster" row ([ha] only)."""
    if not settings.ha.enabled:
        return []
    verdict = report.verdict(cluster.view(), settings.ha.lease, settings.ha.node)
    return [("cluster", str(verdict))]


def nodes_on_this_host(settings: Settings) -> dict[int, str] | None:
    """PID → node name of the cluster's running nodes on this host (legacy-scan spares
    them); None when the node list cannot be read (then nothing may be stopped)."""
    try:
        db = open_read_only(settings.database_url)
    except (StoreError, FileNotFoundError):
        return None
    try:
        view = cluster.view()
    except StoreError:
        return None
    finally:
        db.close()
    host = socket.gethostname()
    return {n.pid: n.name for n in view.nodes if n.running and n.host == host}
