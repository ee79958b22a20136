"""The doctor's facts from the host: who holds the poller lock, systemd's view of the
units, free disk, other pollers of the token. Nothing here changes anything."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from daemon.guard import LOCK_NAME, live_holder
from daemon.ops.doctor.checks import Check, disk_verdict, fail, ok, warn
from daemon.ops.legacy import Finding, Needles
from daemon.ops.legacy_scan import scan

SERVICE = "tradebotd.service"
TIMER = "tradebotd-digest.timer"


@dataclass(frozen=True)
class Holder:
    pid: int
    unit: str | None  # the systemd unit it runs in, from its cgroup
    command: str


def lock_holder(state_directory: Path, proc: Path = Path("/proc")) -> Holder | None:
    pid = live_holder(state_directory / LOCK_NAME, proc)
    if pid is None:
        return None
    try:
        command = (proc / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        cgroup = (proc / str(pid) / "cgroup").read_text()
    except OSError:
        command, cgroup = "", ""
    return Holder(pid, unit_of(cgroup), command.strip() or "?")


def unit_of(cgroup: str) -> str | None:
    """The service or scope a process runs in, from /proc/PID/cgroup. Pure."""
    for line in cgroup.splitlines():
        for part in reversed(line.rpartition(":")[2].split("/")):
            if part.endswith((".service", ".scope")):
                return part
    return None


def lock_check(holder: Holder | None, state_directory: Path) -> Check:
    if holder is None:
        return warn(
            "poller lock",
            f"nobody holds {state_directory / LOCK_NAME}: the daemon is not running",
            "systemctl start tradebotd",
        )
    where = f" in {holder.unit}" if holder.unit else " (not in a systemd unit)"
    if holder.pid == 0:
        return ok("poller lock", "held by a process in another PID namespace")
    return ok("poller lock", f"held by pid {holder.pid}{where}: {holder.command}")


def systemd_present() -> bool:
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def parse_show(output: str) -> dict[str, str]:
    """`systemctl show -p A,B` output as a dict. Pure."""
    found = {}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key] = value
    return found


def systemctl_show(unit: str, properties: tuple[str, ...]) -> dict[str, str]:
    answer = subprocess.run(
        ["systemctl", "show", unit, "--property=" + ",".join(properties)],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return parse_show(answer.stdout)


def service_check(shown: dict[str, str], watchdog_kill: str | None = None) -> Check:
    """`watchdog_kill`: the journal's line for the last watchdog kill, if any (a restart
    clears systemd's Result, the journal keeps it)."""
    if shown.get("LoadState") != "loaded":
        return warn("service", f"{SERVICE} is not installed", "make install (docs/deploy.md)")
    state = f"{shown.get('ActiveState')} ({shown.get('SubState')})"
    restarts = shown.get("NRestarts", "0")
    said = f"{SERVICE} {state}, {restarts} restarts"
    if shown.get("Result") == "watchdog" or watchdog_kill:
        when = f" at {watchdog_kill.split()[0]}" if watchdog_kill else ""
        return warn(
            "service",
            said + f"; the watchdog killed it{when} (its heartbeat stopped)",
            "journalctl -u tradebotd -g watchdog (what it was doing), and /logs",
        )
    if shown.get("ActiveState") == "failed":
        return fail(
            "service",
            said + f"; it failed ({shown.get('Result')})",
            "journalctl -u tradebotd -n 50, then systemctl restart tradebotd",
        )
    if shown.get("ActiveState") != "active":
        return warn("service", said, "systemctl start tradebotd")
    return ok("service", said)


def timer_check(shown: dict[str, str]) -> Check:
    if shown.get("LoadState") != "loaded":
        return warn("digest timer", f"{TIMER} is not installed", "make install (docs/deploy.md)")
    if shown.get("ActiveState") != "active":
        return warn(
            "digest timer",
            f"{TIMER} is {shown.get('ActiveState')}: no daily digest",
            f"systemctl enable --now {TIMER}",
        )
    upcoming = shown.get("NextElapseUSecRealtime") or "not scheduled"
    return ok("digest timer", f"{TIMER} active, next {upcoming}")


WATCHDOG_KILL = "Failed with result 'watchdog'"


def last_watchdog_kill(since: str = "-1d") -> str | None:
    """The journal's last "Failed with result 'watchdog'" line for the service within
    `since` (short-iso, so it starts with the time); None without one or without access
    to the journal (a user outside systemd-journal). Filtered here, not with --grep,
    which needs a journalctl built with PCRE2."""
    answer = subprocess.run(
        ["journalctl", "-u", SERVICE, "--since", since, "-n", "20000", "-o", "short-iso",
         "-q", "--no-pager"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    kills = [line for line in answer.stdout.splitlines() if WATCHDOG_KILL in line]
    return kills[-1] if kills else None


def systemd_checks() -> list[Check]:
    if not systemd_present():
        return [ok("service", "no systemd on this host (supervisor: supervisorctl status)")]
    properties = ("LoadState", "ActiveState", "SubState", "NRestarts", "Result")
    service = systemctl_show(SERVICE, properties)
    timer = systemctl_show(TIMER, ("LoadState", "ActiveState", "NextElapseUSecRealtime"))
    return [service_check(service, last_watchdog_kill()), timer_check(timer)]


def disk_check(state_directory: Path) -> Check:
    where = state_directory if state_directory.exists() else state_directory.parent
    try:
        usage = shutil.disk_usage(where)
    except OSError as exc:
        return fail("disk", f"cannot read {where}: {exc.strerror}", f"ls -ld {where}")
    return disk_verdict(usage.free, usage.total, str(where))


def legacy_check(token: str, spared: Mapping[int, str]) -> Check:
    """Report-only legacy-scan; the daemon holding the lock is this host's poller, not a
    legacy one (run by hand, it has the token in its environment), and so are this host's
    nodes of a cluster (`spared`: pid → what it is)."""
    findings, pidfds = scan(Path("/"), Needles(token), os.getpid(), Path("/proc"), spared)
    for pidfd in pidfds.values():
        os.close(pidfd)
    return legacy_verdict(findings)


def legacy_verdict(findings: list[Finding]) -> Check:
    if not findings:
        return ok("legacy pollers", "none found (processes, cron, units, supervisor)")
    listed = "; ".join(f"{f.kind} {f.where}" for f in findings[:5])
    return fail(
        "legacy pollers",
        f"{len(findings)} other pollers of this token: {listed}",
        "tradebotd legacy-scan --stop (it stops, disables and comments them out)",
    )
