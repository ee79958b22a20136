"""The leadership lease and the node list in PostgreSQL (docs/ha.md).

The lease loop talks to the database over its own connection (`LeaseConnection`), so a
long transaction of the daemon's never delays a renewal and a renewal never joins one.
Every statement there is short, autocommit, and bounded by the server's
`statement_timeout`/`lock_timeout` and the client's TCP keepalives: a node cut from the
database learns it within seconds instead of hanging.

Fencing has two halves. Each effect's transaction on the daemon's own connection reads
the lease row FOR SHARE and commits only if its node and epoch still hold it
(`check_epoch`); a takeover must lock that row FOR UPDATE, so it waits for such a
transaction to end, and one that starts after the takeover sees the new epoch. A frozen
leader may sit on that share lock forever: the taker waits `lock_timeout`, then ends
the holder's backends (found by application_name) and tries again.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg2
import psycopg2.errors

from daemon.store import events
from daemon.store.database import (
    EVENT_LOG,
    StoreUnavailable,
    execute,
    postgres_options,
    read_timestamp,
)
from daemon.store.stats import NODE_UP

# The database's own clock, as the naive UTC timestamps every table keeps.
NOW = "(now() AT TIME ZONE 'UTC')"
LEASE_ROW = 1
# The client-side limits of the lease connection (seconds).
CONNECT_TIMEOUT = 3
STATEMENT_TIMEOUT = 3.0
TAKEOVER_LOCK_TIMEOUT = 0.5
RENEW_LOCK_TIMEOUT = 1.0


def application_name(node: str) -> str:
    """The daemon's own connections carry this name: a new leader ends them by it."""
    return f"tradebotd:{node}"


class LeaseUnavailable(StoreUnavailable):
    """A lease call failed (the database is down, cut off or too slow); str() says why."""


class Fenced(StoreUnavailable):
    """This node no longer holds the lease in the epoch it committed under: nothing of the
    transaction was written."""


@dataclass(frozen=True)
class Lease:
    holder: str  # "" when released
    epoch: int
    since: datetime
    expires_at: datetime
    now: datetime  # the database's clock when read

    @property
    def live(self) -> bool:
        return bool(self.holder) and self.expires_at > self.now


@dataclass(frozen=True)
class Takeover:
    epoch: int
    previous: str  # the holder whose lease expired ("" after a clean release)


@dataclass(frozen=True)
class NodeRow:
    name: str
    host: str
    pid: int
    version: str
    role: str
    epoch: int
    started_at: datetime
    seen_at: datetime
    running: bool


@dataclass(frozen=True)
class ClusterView:
    lease: Lease | None
    nodes: list[NodeRow]
    last_takeover: tuple[datetime, str] | None  # when, and the event's text


# --- on the daemon's connection, inside the caller's transaction -----------------------------


def check_epoch(node: str, epoch: int | None) -> None:
    """Raise Fenced unless `node` holds the lease in `epoch`. The row stays share-locked
    until the transaction ends, so no takeover can slip between this and the commit."""
    row = execute(
        "SELECT holder, epoch FROM cluster_lease WHERE id = ? FOR SHARE", LEASE_ROW
    ).fetchone()
    if epoch is None or row is None or (row[0], int(row[1])) != (node, epoch):
        holder = f"{row[0] or 'nobody'} (epoch {row[1]})" if row else "nobody"
        raise Fenced(f"fenced: node {node} is not the leader (the lease is {holder})")


def view() -> ClusterView:
    """The lease, the nodes and the last takeover, as the database knows them now
    (/status, /health, doctor, the digest)."""
    lease_row = execute(
        f"SELECT holder, epoch, since, expires_at, {NOW} FROM cluster_lease WHERE id = ?",
        LEASE_ROW,
    ).fetchone()
    lease = None
    if lease_row is not None:
        holder, epoch, since, expires, now = lease_row
        lease = Lease(holder, int(epoch), read_timestamp(since), read_timestamp(expires),
                      read_timestamp(now))  # fmt: skip
    rows = execute(
        "SELECT name, host, pid, version, role, epoch, started_at, seen_at, running "
        "FROM cluster_node ORDER BY name"
    ).fetchall()
    nodes = [
        NodeRow(name, host, int(pid), version, role, int(epoch), read_timestamp(started),
                read_timestamp(seen), bool(running))
        for name, host, pid, version, role, epoch, started, seen, running in rows
    ]  # fmt: skip
    takeover = events.last_of_kind("takeover")
    last = (takeover.at, takeover.detail) if takeover is not None else None
    return ClusterView(lease, nodes, last)


# --- the lease loop's own connection -----------------------------------------------------------


class LeaseConnection:
    """Blocking calls on a connection of their own; the lease loop runs them in a thread
    and abandons (and replaces) a connection whose call outlives its deadline."""

    def __init__(self, url: str, node: str, host: str, pid: int, version: str):
        self._options = postgres_options(url)
        self.node = node
        self._host, self._pid, self._version = host, pid, version
        self._conn: Any = None

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            options = dict(self._options)
            database = options.pop("database", None)
            conn = psycopg2.connect(
                dbname=database,
                application_name=application_name(self.node) + ":lease",
                connect_timeout=CONNECT_TIMEOUT,
                keepalives=1,
                keepalives_idle=2,
                keepalives_interval=1,
                keepalives_count=2,
                tcp_user_timeout=int(STATEMENT_TIMEOUT * 1000),
                # A renewal waits at most this long behind the daemon's own transactions
                # (which hold the lease row FOR SHARE): a missed round is retried.
                options=f"-c statement_timeout={int(STATEMENT_TIMEOUT * 1000)}"
                f" -c lock_timeout={int(RENEW_LOCK_TIMEOUT * 1000)}"
                " -c idle_in_transaction_session_timeout=10000",
                **options,
            )
            conn.autocommit = True
            self._conn = conn
        return self._conn

    def abandon(self) -> None:
        """Forget the connection (a call on it hung): the next call opens a new one; the
        stuck thread's socket is closed when its call finally returns or fails."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.cancel()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _run(self, sql: str, *params: Any) -> Any:
        conn = None
        try:
            conn = self._connection()
            cursor = conn.cursor()
            cursor.execute(sql, params)
            return cursor
        except psycopg2.Error as exc:
            raise self._unavailable(exc, conn) from None

    def _unavailable(self, error: psycopg2.Error, conn: Any) -> LeaseUnavailable:
        """The error as LeaseUnavailable; a broken connection is closed, so the next call
        connects anew (only that one: an abandoned call's error must not close the
        connection that replaced it)."""
        if conn is not None and isinstance(
            error, psycopg2.OperationalError | psycopg2.InterfaceError
        ):
            if self._conn is conn:
                self._conn = None
            with contextlib.suppress(Exception):
                conn.close()
        text = str(error).strip()
        return LeaseUnavailable(text.splitlines()[0] if text else type(error).__name__)

    # -- the node's row --

    def register(self) -> bool:
        """Enter this node as a standby; True when its row said it was running: the last
        run of this node did not stop cleanly."""
        row = self._run("SELECT running FROM cluster_node WHERE name = %s", self.node).fetchone()
        self._run(
            "INSERT INTO cluster_node (name, host, pid, version, role, epoch, started_at, "
            f"seen_at, running) VALUES (%s, %s, %s, %s, 'standby', 0, {NOW}, {NOW}, TRUE) "
            "ON CONFLICT (name) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, "
            "version = EXCLUDED.version, role = 'standby', epoch = 0, "
            "started_at = EXCLUDED.started_at, seen_at = EXCLUDED.seen_at, running = TRUE",
            self.node,
            self._host,
            self._pid,
            self._version,
        )
        return bool(row and row[0])

    def seen(self, role: str, epoch: int) -> None:
        self._run(
            f"UPDATE cluster_node SET role = %s, epoch = %s, seen_at = {NOW} WHERE name = %s",
            role,
            epoch,
            self.node,
        )

    def count_up(self, seconds: int) -> None:
        """Add to this node's up time (stats.NODE_UP, per hour, the database's clock)."""
        self._run(
            f"INSERT INTO hourly_stat (hour, name, value) VALUES (date_trunc('hour', {NOW}), "
            "%s, %s) ON CONFLICT (hour, name) DO UPDATE SET value = hourly_stat.value + "
            "excluded.value",
            NODE_UP + self.node,
            seconds,
        )

    def stopped(self) -> None:
        self._run(
            f"UPDATE cluster_node SET role = 'stopped', epoch = 0, seen_at = {NOW}, "
            "running = FALSE WHERE name = %s",
            self.node,
        )

    # -- the lease --

    def read(self) -> Lease:
        row = self._run(
            f"SELECT holder, epoch, since, expires_at, {NOW} FROM cluster_lease WHERE id = %s",
            LEASE_ROW,
        ).fetchone()
        if row is None:
            self._run(
                "INSERT INTO cluster_lease (id, holder, epoch, since, renewed_at, expires_at) "
                f"VALUES (%s, '', 0, {NOW}, {NOW}, {NOW}) ON CONFLICT (id) DO NOTHING",
                LEASE_ROW,
            )
            return self.read()
        holder, epoch, since, expires, now = row
        return Lease(holder, int(epoch), since, expires, now)

    def try_take(self, lease_seconds: float) -> Takeover | Lease:
        """Take the lease if nobody holds a live one: the new epoch (and whose it was), or
        the lease as it stands. A frozen holder that keeps the row locked has its
        backends ended; this call then reports the lease, and the next one takes it."""
        seen = self.read()
        if seen.live:
            return seen
        conn = None
        try:
            conn = self._connection()
            with conn.cursor() as cursor:
                cursor.execute("BEGIN")
                try:
                    cursor.execute(f"SET LOCAL lock_timeout = {int(TAKEOVER_LOCK_TIMEOUT * 1000)}")
                    cursor.execute(
                        f"SELECT holder, epoch, expires_at <= {NOW} FROM cluster_lease "
                        "WHERE id = %s FOR UPDATE",
                        (LEASE_ROW,),
                    )
                    holder, epoch, expired = cursor.fetchone()
                    if holder and not expired:  # another standby was quicker
                        cursor.execute("ROLLBACK")
                        return self.read()
                    cursor.execute(
                        f"UPDATE cluster_lease SET holder = %s, epoch = epoch + 1, since = {NOW},"
                        f" renewed_at = {NOW}, expires_at = {NOW} + make_interval(secs => %s) "
                        "WHERE id = %s RETURNING epoch",
                        (self.node, lease_seconds, LEASE_ROW),
                    )
                    (new_epoch,) = cursor.fetchone()
                    detail = (
                        f"{self.node} took over from {holder} (epoch {epoch} → {new_epoch})"
                        if holder
                        else f"{self.node} took the free lease (epoch {new_epoch})"
                    )
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (EVENT_LOG,))
                    cursor.execute(
                        f"INSERT INTO event (at, kind, detail) VALUES ({NOW}, 'takeover', %s)",
                        (detail,),
                    )
                    cursor.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(Exception):
                        cursor.execute("ROLLBACK")
                    raise
        except psycopg2.errors.LockNotAvailable:
            # The holder's transaction sits on the row (frozen, or cut off mid-commit):
            # end its connections; its transaction rolls back and it can commit nothing.
            self.fence_out(seen.holder)
            return seen
        except psycopg2.Error as exc:
            raise self._unavailable(exc, conn) from None
        return Takeover(int(new_epoch), holder)

    def fence_out(self, holder: str) -> int:
        """End the backends of `holder`'s daemon connections; how many were ended."""
        if not holder or holder == self.node:
            return 0
        row = self._run(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            application_name(holder),
        ).fetchone()
        return int(row[0])

    def renew(self, epoch: int, lease_seconds: float) -> bool:
        """Extend our lease; False when it is no longer ours (taken over)."""
        cursor = self._run(
            f"UPDATE cluster_lease SET renewed_at = {NOW}, "
            f"expires_at = {NOW} + make_interval(secs => %s) "
            "WHERE id = %s AND holder = %s AND epoch = %s",
            lease_seconds,
            LEASE_ROW,
            self.node,
            epoch,
        )
        return bool(cursor.rowcount == 1)

    def release(self, epoch: int) -> bool:
        """Give the lease up at a clean stop, so a standby takes over at once."""
        cursor = self._run(
            f"UPDATE cluster_lease SET holder = '', expires_at = {NOW} "
            "WHERE id = %s AND holder = %s AND epoch = %s",
            LEASE_ROW,
            self.node,
            epoch,
        )
        return bool(cursor.rowcount == 1)
