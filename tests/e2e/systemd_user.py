"""A real systemd user manager in a private mount namespace (see docs/testing.md).

`unshare --mount` gives the test its own /run/systemd (a tmpfs), so the manager believes
it runs on a systemd host without touching the machine's; XDG_RUNTIME_DIR and
XDG_CONFIG_HOME point into the test's directory. Nothing runs as PID 1 and nothing of the
host's /tmp or /var is touched. The manager and everything it started are stopped by
PID at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.processes import TRADEBOTD

SYSTEMD = Path("/usr/lib/systemd/systemd")
UNITS = Path(__file__).resolve().parent.parent.parent / "units"

# What differs between a VPS and these tests, and nothing else: a user manager cannot
# switch users; Python lives under /root (pyenv) and the tests' files under /tmp, which
# ProtectHome= and PrivateTmp= would hide; the env file and interpreter are the test's.
# Every other line of the shipped unit, its hardening included, stays in force.
ADAPT_TO_TEST = """\
[Service]
User=
Group=
ProtectHome=no
PrivateTmp=no
PrivateUsers=no
ReadWritePaths={writable}
EnvironmentFile=
EnvironmentFile={env_file}
ExecStart=
ExecStart={tradebotd} {arguments}
"""


def adapt_to_test(env_file: Path, writable: Path, arguments: str, extra: str = "") -> str:
    """A drop-in that runs a shipped unit in this test's environment."""
    return (
        ADAPT_TO_TEST.format(
            writable=writable, env_file=env_file, tradebotd=TRADEBOTD, arguments=arguments
        )
        + extra
    )


INNER = """
set -e
mount -t tmpfs tmpfs /run/systemd
mkdir -p /run/systemd/system
/usr/lib/systemd/systemd --user > "$MANAGER_LOG" 2>&1 &
echo $! > "$MANAGER_PID"
wait
"""


def require_user_manager() -> None:
    """Skip on a developer machine without the means; in CI a missing piece is a failure."""
    missing = [
        what
        for what, ok in (
            ("root", os.geteuid() == 0),
            (str(SYSTEMD), SYSTEMD.exists()),
            ("unshare", shutil.which("unshare") is not None),
            ("nsenter", shutil.which("nsenter") is not None),
        )
        if not ok
    ]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must provide a systemd user manager; missing: {', '.join(missing)}")
        pytest.skip(f"needs {', '.join(missing)}")


class UserManager:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.runtime = workdir / "runtime"
        self.units = workdir / "config" / "systemd" / "user"
        self.runtime.mkdir(mode=0o700, parents=True)
        self.units.mkdir(parents=True)
        self.env = {
            **os.environ,
            "XDG_RUNTIME_DIR": str(self.runtime),
            "XDG_CONFIG_HOME": str(workdir / "config"),
            # StateDirectory= and friends of user units land here, not in the host's ~.
            "XDG_STATE_HOME": str(workdir / "state-home"),
            "XDG_CACHE_HOME": str(workdir / "cache-home"),
            "XDG_DATA_HOME": str(workdir / "data-home"),
            "MANAGER_LOG": str(workdir / "manager.log"),
            "MANAGER_PID": str(workdir / "manager.pid"),
        }
        self.namespace = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "bash", "-c", INNER],
            env=self.env,
        )
        deadline = time.monotonic() + 20
        while self.systemctl("is-system-running", check=False).stdout.strip() not in (
            "running",
            "degraded",
        ):
            if time.monotonic() > deadline or self.namespace.poll() is not None:
                self.stop()
                raise RuntimeError(f"user manager did not come up: {self.manager_log()}")
            time.sleep(0.1)

    def manager_log(self) -> str:
        path = self.workdir / "manager.log"
        return path.read_text() if path.exists() else ""

    def systemctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["nsenter", "-t", str(self.namespace.pid), "-m", "systemctl", "--user", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=30,
        )

    def install_unit(self, name: str, text: str, drop_in: str | None = None) -> None:
        """Install a unit (and optionally a drop-in that adapts it to the test)."""
        (self.units / name).write_text(text)
        if drop_in is not None:
            directory = self.units / f"{name}.d"
            directory.mkdir(exist_ok=True)
            (directory / "test.conf").write_text(drop_in)
        self.systemctl("daemon-reload")

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        args = [f"-p{p}" for p in properties]
        output = self.systemctl("show", unit, *args).stdout
        return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)

    def stop(self) -> None:
        if self.namespace.poll() is None:
            self.systemctl("exit", check=False)  # stops every unit, then the manager
            try:
                self.namespace.wait(15)
            except subprocess.TimeoutExpired:
                pid_file = self.workdir / "manager.pid"
                if pid_file.exists():
                    os.kill(int(pid_file.read_text()), 9)
                self.namespace.kill()
                self.namespace.wait()
