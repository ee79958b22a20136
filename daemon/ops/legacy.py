"""Recognising legacy pollers of a token: processes, units, cron lines, supervisor programs.

Pure: values in, findings out. A process is a poller of this token when the token is in
its environment or command line, or it runs one of the bot scripts the operator named.
The scan never reports itself, its ancestors (the installer's own `make`, shells and
sudo carry the token too), nor the tradebotd service's own processes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    ppid: int
    cmdline: tuple[str, ...]
    environ: Mapping[str, str] | None  # None: not readable (another user, without root)
    cgroup: str = ""


@dataclass(frozen=True)
class Finding:
    kind: str  # process, unit, cron, supervisor
    where: str  # "pid 123", "/etc/cron.d/bot:3", "/etc/systemd/system/bot.service"
    what: str  # the command line, or the configuration line
    reason: str
    pid: int | None = None
    lines: tuple[int, ...] = field(default_factory=tuple)  # 1-based, for cron/supervisor


@dataclass(frozen=True)
class Needles:
    """What marks a poller of this token."""

    token: str
    scripts: tuple[str, ...] = ()

    def reason(self, text: str, place: str = "line") -> str | None:
        if self.token and self.token in text:
            return f"has the token in its {place}"
        for script in self.scripts:
            if script and script in text:
                return f"runs {script}"
        return None


def _ancestors(pid: int, parents: Mapping[int, int]) -> set[int]:
    seen: set[int] = set()
    while pid and pid not in seen:
        seen.add(pid)
        pid = parents.get(pid, 0)
    return seen


def poller_processes(
    processes: Sequence[ProcessInfo], needles: Needles, own_pid: int
) -> list[Finding]:
    """Processes to stop: the topmost matching process of each matching tree."""
    parents = {p.pid: p.ppid for p in processes}
    spared = _ancestors(own_pid, parents)
    matching: dict[int, tuple[ProcessInfo, str]] = {}
    for proc in processes:
        if proc.pid in spared or "tradebotd.service" in proc.cgroup:
            continue
        reason = needles.reason(" ".join(proc.cmdline), "command line")
        if reason is None and proc.environ is not None:
            environment = "\n".join(f"{k}={v}" for k, v in proc.environ.items())
            reason = needles.reason(environment, "environment")
        if reason is not None:
            matching[proc.pid] = (proc, reason)
    findings = []
    for pid, (proc, reason) in sorted(matching.items()):
        if parents.get(pid) in matching:
            continue  # a worker of a matching parent (gunicorn): stopping the parent does it
        findings.append(Finding("process", f"pid {pid}", " ".join(proc.cmdline), reason, pid=pid))
    return findings


def _active_lines(text: str) -> Iterable[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line


def cron_findings(path: str, text: str, needles: Needles) -> list[Finding]:
    found = []
    for number, line in _active_lines(text):
        reason = needles.reason(line)
        if reason:
            found.append(Finding("cron", f"{path}:{number}", line.strip(), reason, lines=(number,)))
    return found


def unit_findings(path: str, text: str, needles: Needles) -> list[Finding]:
    for _, line in _active_lines(text):
        reason = needles.reason(line)
        if reason:
            return [Finding("unit", path, line.strip(), reason)]
    return []


_SECTION = re.compile(r"^\s*\[(?P<name>[^\]]+)\]\s*$")


def supervisor_findings(path: str, text: str, needles: Needles) -> list[Finding]:
    """[program:x] sections whose lines mention the token or a bot script: every line of
    the section is reported, so commenting them out disables the program."""
    found: list[Finding] = []
    lines = text.splitlines()
    sections: list[tuple[str, int, int]] = []
    for number, line in enumerate(lines, start=1):
        match = _SECTION.match(line)
        if match:
            sections.append((match["name"], number, len(lines)))
            if len(sections) > 1:
                name, start, _ = sections[-2]
                sections[-2] = (name, start, number - 1)
    for name, start, end in sections:
        if not name.startswith("program:"):
            continue
        body = [(n, lines[n - 1]) for n in range(start, end + 1)]
        active = [
            (n, line) for n, line in body if line.strip() and not line.lstrip().startswith("#")
        ]
        reason = next((r for _, line in active if (r := needles.reason(line))), None)
        if reason:
            numbers = tuple(n for n, _ in active)
            found.append(Finding("supervisor", f"{path} [{name}]", name, reason, lines=numbers))
    return found


def comment_out(text: str, line_numbers: Iterable[int], note: str) -> str:
    """`text` with those lines commented out, each marked with `note`."""
    wanted = set(line_numbers)
    out = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        out.append(f"# {note}: {line}" if number in wanted else line)
    return "".join(out)
