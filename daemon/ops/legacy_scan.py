"""`tradebotd legacy-scan [--stop]`: find (and remove) other pollers of this token.

The imperative shell around ops/legacy.py: it reads /proc and the configuration files
under a root (`/` on a host, a directory in tests), then, with --stop, stops processes
(SIGTERM, then SIGKILL after a grace period), disables units (`systemctl --root=… disable`,
plus `stop` on the live system) and comments out cron and supervisor entries, keeping a
`.tradebotd-backup` copy of every file it edits.

Processes are signalled through a pidfd opened at scan time and checked against the
start time the scan read, so a PID reused by another process meanwhile is never hit.
Edited files keep their mode and owner; backups are created 0600 and never overwritten;
a symlinked file is refused (its target may be anywhere, owned by anyone).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
from collections.abc import Callable, Iterator, Mapping
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


def _stat_fields(stat: str) -> list[str]:
    # The name in parentheses may hold spaces: the fields after it follow the last ')'.
    return stat.rsplit(")", 1)[1].split()


def start_time(pid: int, proc_root: Path = Path("/proc")) -> int | None:
    stat = _read(proc_root / str(pid) / "stat")
    return int(_stat_fields(stat)[19]) if stat else None


def read_processes(proc_root: Path = Path("/proc")) -> list[ProcessInfo]:
    processes = []
    for entry in proc_root.iterdir():
        if not (entry.name.isascii() and entry.name.isdigit()):
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
                ppid=int(_stat_fields(stat)[1]),
                cmdline=tuple(part for part in cmdline.split("\0") if part),
                environ=environ,
                cgroup=_read(entry / "cgroup") or "",
                start_time=int(_stat_fields(stat)[19]),
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


def open_target(pid: int, scanned_start: int, proc_root: Path = Path("/proc")) -> int | None:
    """A pidfd for the process the scan saw, or None when it is gone or its PID now
    belongs to another process (a different start time)."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return None
    # Checked after opening: from here on the pidfd names this process, whatever the PID.
    if start_time(pid, proc_root) != scanned_start:
        os.close(pidfd)
        return None
    return pidfd


def scan(
    root: Path,
    needles: Needles,
    own_pid: int,
    proc_root: Path,
    spared: Mapping[int, str] | None = None,
) -> tuple[list[Finding], dict[int, int]]:
    """The findings, and a pidfd per process finding (opened now, at scan time)."""
    processes = read_processes(proc_root)
    started = {p.pid: p.start_time for p in processes}
    findings, pidfds = [], {}
    for finding in poller_processes(processes, needles, own_pid, spared):
        assert finding.pid is not None
        pidfd = open_target(finding.pid, started[finding.pid], proc_root)
        if pidfd is not None:
            pidfds[finding.pid] = pidfd
            findings.append(finding)
    for path in _files(root, CRON_FILES):
        findings += cron_findings(str(path), _read(path) or "", needles)
    for path in _files(root, UNIT_FILES):
        if not path.name.startswith("tradebotd") and _enabled(root, path):
            findings += unit_findings(str(path), _read(path) or "", needles)
    for path in _files(root, SUPERVISOR_FILES):
        findings += supervisor_findings(str(path), _read(path) or "", needles)
    return findings, pidfds


@dataclass
class Remover:
    root: Path
    grace: float = 10.0
    run: Callable[[list[str]], subprocess.CompletedProcess[str]] = lambda argv: subprocess.run(
        argv, capture_output=True, text=True, check=False
    )

    def stop_process(self, pidfd: int) -> str:
        """SIGTERM through the pidfd; SIGKILL if it has not exited after the grace."""
        try:
            signal.pidfd_send_signal(pidfd, signal.SIGTERM)
        except ProcessLookupError:
            return "already gone"
        # A pidfd becomes readable when its process exits.
        if select.select([pidfd], [], [], self.grace)[0]:
            return "stopped (SIGTERM)"
        try:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
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
        if path.is_symlink():
            return (
                f"could not edit: {path} is a symlink (to {os.readlink(path)}); "
                "comment the lines out by hand"
            )
        original = path.stat()
        text = path.read_text()
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        with contextlib.suppress(FileExistsError):  # the first backup is the original
            _write_new(backup, text, 0o600)
        temporary = path.with_name(path.name + ".tradebotd-tmp")
        temporary.unlink(missing_ok=True)  # a leftover (or a planted link) is removed
        _write_new(temporary, comment_out(text, lines, DISABLED_NOTE), 0o600)
        os.chown(temporary, original.st_uid, original.st_gid)
        os.chmod(temporary, original.st_mode & 0o7777)
        temporary.replace(path)  # never half-written
        return f"commented out (backup {backup.name})"

    def remove(self, finding: Finding, pidfds: dict[int, int]) -> str:
        if finding.kind == "process":
            assert finding.pid is not None
            return self.stop_process(pidfds[finding.pid])
        if finding.kind == "unit":
            return self.disable_unit(Path(finding.where))
        path = Path(finding.where.split(" [", 1)[0].rsplit(":", 1)[0])
        return self.comment_lines(path, finding.lines)


def _write_new(path: Path, text: str, mode: int) -> None:
    """Create `path` (never an existing file or a link planted there) with `mode`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w") as file:
        file.write(text)


def run_legacy_scan(
    needles: Needles,
    stop: bool,
    root: Path = Path("/"),
    proc_root: Path = Path("/proc"),
    grace: float = 10.0,
    out: Callable[[str], None] = print,
    cluster_nodes: Mapping[int, str] | None = None,
) -> int:
    """Report (and with `stop`, remove) every legacy poller; 1 if a removal failed.
    The nodes of a cluster running on this host (`cluster_nodes`, pid → name) are not
    legacy pollers: they are said to be spared, never signalled.

    A legacy command line may hold the token itself: every line is redacted.
    """
    redact = Redactor([needles.token])

    def say(line: str) -> None:
        out(redact(line))

    for pid, name in sorted((cluster_nodes or {}).items()):
        say(f"legacy-scan: pid {pid} is node {name} of this cluster: spared")
    findings, pidfds = scan(root, needles, os.getpid(), proc_root, cluster_nodes)
    try:
        return _report_and_remove(findings, pidfds, stop, root, grace, say)
    finally:
        for pidfd in pidfds.values():
            os.close(pidfd)


def _report_and_remove(
    findings: list[Finding],
    pidfds: dict[int, int],
    stop: bool,
    root: Path,
    grace: float,
    say: Callable[[str], None],
) -> int:
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
        result = remover.remove(finding, pidfds)
        failed += result.startswith("could not")
        say(f"{line} -> {result}")
    if stop and root == Path("/") and any(f.kind == "supervisor" for f in findings):
        remover.run(["supervisorctl", "update"])  # drops the commented-out programs
    if not stop:
        say(f"legacy-scan: {len(findings)} found; run with --stop to remove them")
    return 1 if failed else 0
