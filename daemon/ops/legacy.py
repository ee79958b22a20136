"""Recognising legacy pollers of a token: processes, units, cron lines, supervisor programs.

Pure: values in, findings out. A process is a poller of this token when the token is in
its command line, or in its environment and it is not a shell or session program (a
login shell that merely exports the token is not the target; the poller it started is),
or it runs one of the bot scripts the operator named: an exact argument, not a substring
(`bot.py` is not `robot.py`, and `vim bot.py` does not run it). The scan never reports
itself, its ancestors (the installer's own `make`, shells and sudo carry the token too),
nor the processes of tradebotd's own units (matched by exact unit name).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# tradebotd's own units: their processes carry the token and are never legacy pollers.
OWN_UNITS = frozenset(
    {"tradebotd.service", "tradebotd-digest.service", "tradebotd-digest-weekly.service"}
)
# Programs that hold the token in their environment without polling: shells, session
# and privilege programs, terminal multiplexers, build tools.
SESSION_PROGRAMS = frozenset(
    {
        "bash",
        "sh",
        "dash",
        "zsh",
        "fish",
        "ksh",
        "tcsh",
        "csh",
        "login",
        "sshd",
        "sudo",
        "su",
        "doas",
        "tmux",
        "tmux: server",
        "screen",
        "SCREEN",
        "make",
        "env",
        "nohup",
        "setsid",
        "script",
        "systemd",
    }
)
# Interpreters whose first non-option argument is the script they run.
_INTERPRETER = re.compile(r"(python|pypy)[0-9.]*|node|nodejs|ruby|perl|php|bash|sh|dash")
_OPTIONS_WITH_VALUE = frozenset({"-X", "-W", "-Q"})


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    ppid: int
    cmdline: tuple[str, ...]
    environ: Mapping[str, str] | None  # None: not readable (another user, without root)
    cgroup: str = ""
    start_time: int = 0  # /proc/PID/stat field 22: tells a reused PID from the original


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
        """Why a configuration line (cron, unit, supervisor) starts a poller, or None."""
        if self.token and self.token in text:
            return f"has the token in its {place}"
        try:
            words = shlex.split(text, comments=False)
        except ValueError:
            words = text.split()
        # A line may set a variable first (ExecStart=..., command=...): split at '='.
        words = [part for word in words for part in word.split("=")]
        return next(
            (f"runs {s}" for s in self.scripts if any(is_script(w, s) for w in words)), None
        )

    def process_reason(self, proc: ProcessInfo) -> str | None:
        """Why a process is a poller of this token, or None."""
        if self.token and self.token in " ".join(proc.cmdline):
            return "has the token in its command line"
        for script in self.scripts:
            if runs_script(proc.cmdline, script):
                return f"runs {script}"
        in_environment = proc.environ is not None and any(
            self.token and self.token in value for value in proc.environ.values()
        )
        if in_environment and program_name(proc.cmdline) not in SESSION_PROGRAMS:
            return "has the token in its environment"
        return None


def is_script(argument: str, script: str) -> bool:
    """`argument` names `script`: the same path, or (for a bare name like bot.py) a path
    whose last part is exactly that name. Pure."""
    if not argument or not script:
        return False
    if argument == script:
        return True
    if "/" not in script:
        return posixpath.basename(argument) == script
    return argument.endswith("/" + script.lstrip("./")) and not script.startswith("/")


def program_name(cmdline: Sequence[str]) -> str:
    """The program's own name: a login shell's argv[0] is "-bash"."""
    return posixpath.basename(cmdline[0]).lstrip("-") if cmdline else ""


def runs_script(cmdline: Sequence[str], script: str) -> bool:
    """True when the process executes `script`: as its program, or as the script an
    interpreter runs (its first argument that is not an option). Pure."""
    if not cmdline:
        return False
    if is_script(cmdline[0], script):
        return True
    if not _INTERPRETER.fullmatch(program_name(cmdline)):
        return False
    arguments = iter(cmdline[1:])
    for argument in arguments:
        if argument in ("-m", "-c", "-e", "--eval", "-"):
            return False  # a module or inline code, not a script file
        if argument in _OPTIONS_WITH_VALUE:
            next(arguments, None)
            continue
        if argument.startswith("-"):
            continue
        return is_script(argument, script)
    return False


def in_own_unit(cgroup: str) -> bool:
    """True when /proc/PID/cgroup puts the process in one of tradebotd's own units (by
    exact name: old-tradebotd.service is not ours). Pure."""
    for line in cgroup.splitlines():
        path = line.split(":", 2)[-1]
        if any(part in OWN_UNITS for part in path.split("/")):
            return True
    return False


def _ancestors(pid: int, parents: Mapping[int, int]) -> set[int]:
    seen: set[int] = set()
    while pid and pid not in seen:
        seen.add(pid)
        pid = parents.get(pid, 0)
    return seen


def poller_processes(
    processes: Sequence[ProcessInfo],
    needles: Needles,
    own_pid: int,
    spared: Mapping[int, str] | None = None,
) -> list[Finding]:
    """Processes to stop: the topmost matching process of each matching tree. `spared`:
    PIDs that are no legacy poller (this host's nodes of a cluster, doctor's lock
    holder), pid → what they are."""
    parents = {p.pid: p.ppid for p in processes}
    spared_pids = _ancestors(own_pid, parents) | set(spared or ())
    matching: dict[int, tuple[ProcessInfo, str]] = {}
    for proc in processes:
        if proc.pid in spared_pids or in_own_unit(proc.cgroup):
            continue
        reason = needles.process_reason(proc)
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
