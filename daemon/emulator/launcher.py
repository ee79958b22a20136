"""Starting the emulator as a separate process (tests and benchmarks), stopping it by PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def start_emulator(workdir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    """A `tradebotd emulator` process on a free loopback port, and its base URL."""
    port_file = workdir / "emulator.port"
    log = (workdir / "emulator.log").open("wb")
    command = [sys.executable, "-m", "daemon", "emulator", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--port-file", str(port_file), *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 20
    while not port_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            raise RuntimeError(f"emulator did not start: {(workdir / 'emulator.log').read_text()}")
        time.sleep(0.05)
    return process, f"http://127.0.0.1:{port_file.read_text().strip()}"


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a process we started, by its PID only: SIGTERM, then SIGKILL after 10 s."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
