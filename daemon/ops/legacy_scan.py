"""`tradebotd legacy-scan [--stop]`: find (and remove) other pollers of this token.

The imperative shell around ops/legacy.py: it reads /proc and the configuration files
under a root (`/` on a host, a directory in tests), then, with --stop, stops processes
(SIGTERM, then SIGKILL after a grace period), disables units (`systemctl --root=… disable`,
plus `stop` on the live system) and comments out cron and supervisor entries, keeping a
`.tradebotd-backup` copy of every file it edits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from daemon.logs import Redactor
from daemon.ops.legacy import (
    Finding,
    Needles,
    ProcessInfo,
    comment_out,
    cron_findings,
    poller_processes,
    supervisor_findings,
    unit_findings,
)

BACKUP_SUFFIX = ".tradebotd-backup"
DISABLED_NOTE = "disabled by tradebotd legacy-scan"
CRON_FILES = ("etc/crontab", "etc/cron.d/*", "var/spool/cron/crontabs/*")
UNIT_FILES = ("etc/systemd/system/*.service", "etc/systemd/system/*.timer")
SUPERVISOR_FILES = (
    "etc/supervisor/supervisord.conf",
    "etc/supervisor/conf.d/*.conf",
    "etc/supervisord.conf",
)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def read_processes(proc_root: Path = Path("/proc")) -> list[ProcessInfo]:
    processes = []
    for entry in proc_root.iterdir():
        if not entry.name.isdigit():
            continue
        stat, cmdline = _read(entry / "stat"), _read(entry / "cmdline")
        if stat is None or cmdline is None:
            continue  # gone meanwhile
        try:
            raw_environ: str | None = (entry / "environ").read_bytes().decode(errors="replace")
        except OSError:
            raw_environ = None  # another user's process, without root
        environ = None
        if raw_environ is not None:
            pairs = (item.partition("=") for item in raw_environ.split("\0") if item)
            environ = {name: value for name, _, value in pairs}
        processes.append(
            ProcessInfo(
                pid=int(entry.name),
                # The name in parentheses may hold spaces: the ppid follows the last ')'.
                ppid=int(stat.rsplit(")", 1)[1].split()[1]),
                cmdline=tuple(part for part in cmdline.split("\0") if part),
                environ=environ,
                cgroup=_read(entry / "cgroup") or "",
            )
        )
    return processes


def _files(root: Path, patterns: tuple[str, ...]) -> Iterator[Path]:
    for pattern in patterns:
        # Our own backups are not live configuration (cron skips names with a dot).
        yield from sorted(
            p for p in root.glob(pattern) if p.is_file() and not p.name.endswith(BACKUP_SUFFIX)
        )


def _enabled(root: Path, unit: Path) -> bool:
    """Enabled = linked from some .wants/ directory; a disabled unit file is harmless
    (a running instance of it is still found among the processes)."""
    return any(root.glob(f"etc/systemd/system/*.wants/{unit.name}"))


def scan(root: Path, needles: Needles, own_pid: int, proc_root: Path) -> list[Finding]:
    findings = poller_processes(read_processes(proc_root), needles, own_pid)
    for path in _files(root, CRON_FILES):
        findings += cron_findings(str(path), _read(path) or "", needles)
    for path in _files(root, UNIT_FILES):
        if not path.name.startswith("tradebotd") and _enabled(root, path):
            findings += unit_findings(str(path), _read(path) or "", needles)
    for path in _files(root, SUPERVISOR_FILES):
        findings += supervisor_findings(str(path), _read(path) or "", needles)
    return findings


@dataclass
class Remover:
    root: Path
    grace: float = 10.0
    run: Callable[[list[str]], subprocess.CompletedProcess[str]] = lambda argv: subprocess.run(
        argv, capture_output=True, text=True, check=False
    )

    def stop_process(self, pid: int) -> str:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return "already gone"
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline:
            if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
                return "stopped (SIGTERM)"
            time.sleep(0.1)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return "stopped (SIGTERM)"
        return f"killed (SIGKILL after {self.grace:g}s)"

    def disable_unit(self, path: Path) -> str:
        argv = ["systemctl", f"--root={self.root}", "disable", path.name]
        if self.root == Path("/"):
            argv = ["systemctl", "disable", "--now", path.name]
        result = self.run(argv)
        if result.returncode != 0:
            return f"could not disable: {result.stderr.strip() or result.returncode}"
        return "disabled" + (" and stopped" if self.root == Path("/") else "")

    def comment_lines(self, path: Path, lines: tuple[int, ...]) -> str:
        text = path.read_text()
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        if not backup.exists():
            backup.write_text(text)
        temporary = path.with_name(path.name + ".tradebotd-tmp")
        temporary.write_text(comment_out(text, lines, DISABLED_NOTE))
        os.chmod(temporary, path.stat().st_mode)
        temporary.replace(path)  # never half-written
        return f"commented out (backup {backup.name})"

    def remove(self, finding: Finding) -> str:
        if finding.kind == "process":
            assert finding.pid is not None
            return self.stop_process(finding.pid)
        if finding.kind == "unit":
            return self.disable_unit(Path(finding.where))
        path = Path(finding.where.split(" [", 1)[0].rsplit(":", 1)[0])
        return self.comment_lines(path, finding.lines)


def _is_zombie(pid: int) -> bool:
    stat = _read(Path(f"/proc/{pid}/stat"))
    return stat is not None and stat.rsplit(")", 1)[1].split()[0] == "Z"


def run_legacy_scan(
    needles: Needles,
    stop: bool,
    root: Path = Path("/"),
    proc_root: Path = Path("/proc"),
    grace: float = 10.0,
    out: Callable[[str], None] = print,
) -> int:
    """Report (and with `stop`, remove) every legacy poller; 1 if a removal failed.

    A legacy command line may hold the token itself: every line is redacted.
    """
    redact = Redactor([needles.token])

    def say(line: str) -> None:
        out(redact(line))

    findings = scan(root, needles, os.getpid(), proc_root)
    if not findings:
        say("legacy-scan: no other poller of this token found")
        return 0
    # Configuration first, processes last: a unit, cron job or supervisor program that
    # is still active would start the process again.
    findings.sort(key=lambda f: f.kind == "process")
    remover = Remover(root, grace)
    failed = 0
    for finding in findings:
        line = f"legacy-scan: {finding.kind} {finding.where}: {finding.what} ({finding.reason})"
        if not stop:
            say(line)
            continue
        result = remover.remove(finding)
        failed += result.startswith("could not")
        say(f"{line} -> {result}")
    if stop and root == Path("/") and any(f.kind == "supervisor" for f in findings):
        remover.run(["supervisorctl", "update"])  # drops the commented-out programs
    if not stop:
        say(f"legacy-scan: {len(findings)} found; run with --stop to remove them")
    return 1 if failed else 0
