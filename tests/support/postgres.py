"""A real PostgreSQL server for the tests: initdb + pg_ctl as an unprivileged user, on a
free loopback port, stopped by its PID at the end of the session.

PostgreSQL refuses to run as root: under root (CI) the server runs as `nobody` from a
directory it owns. Debian's `postgresql` package provides the binaries.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import peewee
import pytest

UNPRIVILEGED = "nobody"
_names = itertools.count(1)


def find_bindir() -> Path | None:
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    def __init__(self, bindir: Path):
        self.bindir = bindir
        # Not under pytest's 0700 tmp: the unprivileged user must reach its directory.
        self.root = Path(tempfile.mkdtemp(prefix="tradebotd-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_user: list[str] = []
        if os.getuid() == 0:
            account = pwd.getpwnam(UNPRIVILEGED)
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as_user = [
                "setpriv",
                f"--reuid={account.pw_uid}",
                f"--regid={account.pw_gid}",
                "--clear-groups",
            ]
        self.pid: int | None = None

    def _run(self, *argv: str) -> None:
        subprocess.run(
            [*self._as_user, *argv],
            check=True,
            capture_output=True,
            text=True,
            cwd=self.root,
            timeout=120,
        )

    def start(self) -> PostgresServer:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -F -c fsync=off"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "start",
        )
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        return self

    def restart(self) -> None:
        """A fast restart (every client's connection is cut), as a server upgrade or an
        operator's restart would do; the same options, port and data."""
        # -l as at start: without it the new postmaster would hold our output pipe open.
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                  "-l", str(self.root / "server.log"), "restart")  # fmt: skip
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database for one test; its URL."""
        name = f"t{os.getpid()}_{next(_names)}"
        admin = peewee.PostgresqlDatabase(
            "postgres", user="postgres", host="127.0.0.1", port=self.port
        )
        with admin.connection_context():
            admin.execute_sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def query(self, url: str, sql: str) -> list[tuple[object, ...]]:
        """Rows of `sql` in the database at `url` (one of this server's)."""
        db = peewee.PostgresqlDatabase(
            url.rsplit("/", 1)[1], user="postgres", host="127.0.0.1", port=self.port
        )
        with db.connection_context():
            return [tuple(row) for row in db.execute_sql(sql).fetchall()]

    def stop(self) -> None:
        """Fast shutdown of the postmaster we started (by its PID), then its files."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGINT)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and Path(f"/proc/{self.pid}").exists():
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
            self.pid = None
        shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PostgresServer:
    """A new server in a temp dir; the test is skipped without PostgreSQL's binaries
    (failed in CI, which must have them)."""
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must provide PostgreSQL (apt-get install postgresql)")
        pytest.skip("needs PostgreSQL's server binaries (apt-get install postgresql)")
    return PostgresServer(bindir).start()
