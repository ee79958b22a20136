"""Two (or more) real tradebotd nodes of one cluster on this machine: one emulator bot,
one PostgreSQL database, a state directory each (docs/ha.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from daemon.emulator.client import BotControl
from tests.support.processes import FAST_CONFIG, DaemonProcess, wait_until

LEASE = 4.0
LEADS = re.compile(r"cluster: node (\w+) leads in epoch (\d+)")


def node_config(node: str, lease: float = LEASE, extra: str = "") -> str:
    return f'{FAST_CONFIG}\n[ha]\nenabled = true\nnode = "{node}"\nlease = {lease}\n{extra}'


class Cluster:
    def __init__(
        self,
        workdir: Path,
        bot: BotControl,
        database_url: str,
        admin: int,
        names: tuple[str, ...] = ("a", "b"),
        lease: float = LEASE,
        extra_config: str = "",
        env: dict[str, str] | None = None,
    ):
        self.workdir, self.bot, self.database_url = workdir, bot, database_url
        self.admin, self.lease = admin, lease
        self.nodes: dict[str, DaemonProcess] = {}
        # Where each node's current run begins in its log (a restarted node appends).
        self._log_start: dict[str, int] = {}
        self._extra, self._env = extra_config, env or {}
        # A node's own environment on top (a node that reaches the database by a proxy).
        self.node_env: dict[str, dict[str, str]] = {}
        # Every process ever started for a name: a restarted node keeps its log.
        self.started: list[DaemonProcess] = []
        for name in names:
            self.nodes[name] = self._process(name)

    def _process(self, name: str) -> DaemonProcess:
        return DaemonProcess(
            self.workdir,
            self.bot,
            name=name,
            admin_ids=str(self.admin),
            state_directory=self.workdir / f"state-{name}",
            config=node_config(name, self.lease, self._extra),
            env={"DATABASE_URL": self.database_url, **self._env, **self.node_env.get(name, {})},
        )

    def start(self, name: str) -> DaemonProcess:
        process = self._process(name)
        self._log_start[name] = len(process.log())
        self.nodes[name] = process
        self.started.append(process.start())
        return process

    def start_all(self) -> str:
        """Start every node, one after the other; the name of the first leader."""
        for name in self.nodes:
            self.start(name)
        return self.wait_leader()

    def leader(self) -> str | None:
        """The node that last logged taking the lease (per the logs of running nodes)."""
        best: tuple[int, str] | None = None
        for name, process in self.nodes.items():
            if process.process is None or process.process.poll() is not None:
                continue
            for found in LEADS.finditer(self.log(name)):
                epoch = int(found[2])
                if best is None or epoch > best[0]:
                    best = (epoch, name)
        return best[1] if best else None

    def wait_leader(self, other_than: str | None = None, timeout: float = 20.0) -> str:
        def found() -> bool:
            leader = self.leader()
            return leader is not None and leader != other_than and self.polling(leader)

        wait_until(found, timeout, f"a leader other than {other_than}")
        leader = self.leader()
        assert leader is not None
        return leader

    def polling(self, name: str) -> bool:
        """The node's current term started polling (its last 'leads' line is followed
        by a 'Polling service started' line)."""
        log = self.log(name)
        leads = [m.end() for m in LEADS.finditer(log)]
        return bool(leads) and "Polling service started successfully" in log[leads[-1] :]

    def log(self, name: str) -> str:
        """What the node's current run logged."""
        return self.nodes[name].log()[self._log_start.get(name, 0) :]

    def lease_row(self) -> tuple[str, int]:
        ((holder, epoch),) = self.query("SELECT holder, epoch FROM cluster_lease WHERE id = 1")
        return str(holder), int(epoch)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        import peewee

        from daemon.store.database import postgres_options

        db = peewee.PostgresqlDatabase(**postgres_options(self.database_url))
        with db.connection_context():
            return [tuple(row) for row in db.execute_sql(sql).fetchall()]

    def stop_all(self) -> None:
        for process in self.started:
            process.stop()

    def __iter__(self) -> Iterator[DaemonProcess]:
        return iter(self.nodes.values())


def overlapping_polls(polls: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Pairs of getUpdates calls (the emulator's log) that were open at the same time:
    each call against the one, of those before it, that ended last."""
    pairs = []
    latest: dict[str, Any] | None = None
    for poll in sorted(polls, key=lambda poll: poll["started"]):
        if latest is not None and poll["started"] < latest["ended"]:
            pairs.append((latest, poll))
        if latest is None or poll["ended"] > latest["ended"]:
            latest = poll
    return pairs
