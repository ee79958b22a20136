"""A throw-away booted systemd container (systemd-nspawn --volatile=yes) for install tests.

The container's root is a fresh tmpfs with the host's /usr read-only, so nothing it
writes reaches the host; it shares the host's network, so it reaches the emulator on
127.0.0.1. See ../shared/notes/systemd-in-a-box.md. It is stopped, then its nspawn
process killed by PID, whatever the test did.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

# What pip inside needs to reach the package index, read-only.
HOST_FILES = ("/etc/resolv.conf", "/etc/ssl", "/etc/pip.conf")
BOOT_SECONDS = 180


def container_init(nspawn: int) -> int:
    """The container's PID 1 as the host sees it (0 while there is none yet): the
    descendant of systemd-nspawn whose last NSpid is 1. Its first child is not it: nspawn
    forks an intermediate process first, and entering that one's namespaces reaches no
    systemd (seen as an empty `systemctl is-system-running` until the deadline)."""
    todo = [nspawn]
    while todo:
        pid = todo.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        nspids = next((line.split()[1:] for line in status.splitlines()
                       if line.startswith("NSpid:")), [])  # fmt: skip
        if pid != nspawn and len(nspids) > 1 and nspids[-1] == "1":
            return pid
        todo += [int(child) for child in children]
    return 0


def require_container() -> None:
    """Fail when a container cannot be booted, unless E2E=0 says to skip (and why)."""
    missing = [
        what
        for what, ok in (
            ("root", os.geteuid() == 0),
            ("systemd-nspawn (apt-get install systemd-container)", shutil.which("systemd-nspawn")),
            ("nsenter", shutil.which("nsenter")),
        )
        if not ok
    ]
    if not missing:
        return
    reason = f"cannot boot a systemd container: missing {', '.join(missing)}"
    if os.environ.get("E2E") == "0":
        print(f"E2E=0: skipping the container test ({reason})")
        pytest.skip(reason)
    pytest.fail(f"{reason} (set E2E=0 to skip explicitly)")


class Container:
    def __init__(self, workdir: Path, source: Path):
        self.workdir = workdir
        self.log = workdir / "boot.log"
        binds = [f"--bind-ro={path}" for path in HOST_FILES if Path(path).exists()]
        self.nspawn = subprocess.Popen(
            [
                "systemd-nspawn",
                "-D",
                "/",
                "--volatile=yes",
                "--register=no",
                "--keep-unit",
                "--boot",
                "-q",
                "--bind-ro=/dev/null:/etc/systemd/system/systemd-firstboot.service",
                f"--bind={source}:/src",
                *binds,
                f"--machine=tradebotd-e2e-{uuid.uuid4().hex[:8]}",
            ],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.leader = 0
        # Booting takes 5-20 s here; a loaded CI machine has been seen to need more than a
        # minute before every start job ended.
        deadline = time.monotonic() + BOOT_SECONDS
        state = "no leader yet"
        while True:
            if self.nspawn.poll() is not None or time.monotonic() > deadline:
                jobs = self.run("systemctl list-jobs", check=False).stdout if self.leader else ""
                self.stop()
                raise RuntimeError(
                    f"container did not boot (state {state!r}; jobs: {jobs.strip()!r}):\n"
                    f"{self.log.read_text()[-3000:]}"
                )
            if not self.leader:
                self.leader = container_init(self.nspawn.pid)
            if self.leader:
                answer = self.run("systemctl is-system-running", check=False)
                state = (answer.stdout or answer.stderr).strip()
                if state in ("running", "degraded"):
                    return
            time.sleep(0.25)

    def run(
        self,
        command: str,
        check: bool = True,
        timeout: float = 120,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """A shell command inside the container, as root."""
        exports = "".join(f"export {k}='{v}'; " for k, v in (env or {}).items())
        result = subprocess.run(
            [
                "nsenter",
                "--target",
                str(self.leader),
                "--mount",
                "--uts",
                "--ipc",
                "--pid",
                "/bin/sh",
                "-c",
                exports + command,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"in container: {command!r} exited {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        output = self.run(f"systemctl show {unit} " + " ".join(f"-p {p}" for p in properties))
        return dict(line.split("=", 1) for line in output.stdout.splitlines() if "=" in line)

    def journal(self, unit: str) -> str:
        return self.run(f"journalctl -u {unit} --no-pager -o cat").stdout

    def stop(self) -> None:
        if self.nspawn.poll() is None:
            if self.leader:
                self.run("systemctl poweroff", check=False, timeout=30)
            try:
                self.nspawn.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.nspawn.pid, signal.SIGKILL)
                self.nspawn.wait()
