"""Recognising legacy pollers (pure): processes, cron lines, units, supervisor programs."""

from __future__ import annotations

from daemon.ops.legacy import (
    Needles,
    ProcessInfo,
    comment_out,
    cron_findings,
    in_own_unit,
    poller_processes,
    program_name,
    supervisor_findings,
    unit_findings,
)

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
NEEDLES = Needles(TOKEN, scripts=("/home/ops/bot.py",))
SERVICE_CGROUP = "0::/system.slice/tradebotd.service"


def proc(
    pid: int, ppid: int, *cmd: str, env: dict[str, str] | None = None, cgroup: str = ""
) -> ProcessInfo:
    return ProcessInfo(pid, ppid, tuple(cmd), env or {}, cgroup)


def test_pollers_found_by_environment_command_line_or_script() -> None:
    processes = [
        proc(10, 1, "python", "poll.py", env={"TELEGRAM_BOT_TOKEN": TOKEN}),
        proc(11, 1, "python", "bot.py", "--token", TOKEN),
        proc(12, 1, "python", "/home/ops/bot.py"),
        proc(13, 1, "python", "other.py", env={"TELEGRAM_BOT_TOKEN": "999:other"}),
        proc(14, 1, "sshd"),
    ]
    found = {f.pid: f.reason for f in poller_processes(processes, NEEDLES, own_pid=99)}
    assert found == {
        10: "has the token in its environment",
        11: "has the token in its command line",
        12: "runs /home/ops/bot.py",
    }


def test_the_scan_spares_itself_its_ancestors_and_the_service() -> None:
    """`make install` with the token in its environment: make, its shell and the scan
    itself all carry the token, and none of them may be stopped."""
    env = {"TELEGRAM_BOT_TOKEN": TOKEN}
    processes = [
        proc(20, 1, "sudo", "make", "install", env=env),
        proc(21, 20, "make", "install", env=env),
        proc(22, 21, "/bin/sh", "-c", "tradebotd legacy-scan --stop", env=env),
        proc(23, 22, "python", "-m", "daemon", "legacy-scan", env=env),
        proc(
            30,
            1,
            "python",
            "-m",
            "daemon",
            "run",
            env=env,
            cgroup="0::/system.slice/tradebotd.service",
        ),
        proc(40, 1, "python", "poll.py", env=env),
    ]
    assert [f.pid for f in poller_processes(processes, NEEDLES, own_pid=23)] == [40]


def test_the_nodes_of_a_cluster_on_this_host_are_spared() -> None:
    """Two nodes of one cluster on one host both carry the token; neither is a legacy
    poller, while a stray bot beside them still is."""
    env = {"TELEGRAM_BOT_TOKEN": TOKEN}
    processes = [
        proc(50, 1, "/opt/tradebotd/venv/bin/tradebotd", "run", env=env),
        proc(51, 1, "/opt/tradebotd/venv/bin/tradebotd", "run", env=env),
        proc(52, 1, "python", "poll.py", env=env),
    ]
    nodes = {50: "node a", 51: "node b"}
    found = poller_processes(processes, NEEDLES, own_pid=99, spared=nodes)
    assert [f.pid for f in found] == [52]


def test_a_gunicorn_master_is_reported_instead_of_its_workers() -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN}
    processes = [
        proc(50, 1, "gunicorn: master [app:app]", env=env),
        proc(51, 50, "gunicorn: worker [app:app]", env=env),
        proc(52, 50, "gunicorn: worker [app:app]", env=env),
    ]
    assert [f.pid for f in poller_processes(processes, NEEDLES, own_pid=99)] == [50]


def test_cron_lines_that_start_the_bot_are_found_and_comments_ignored() -> None:
    text = (
        "# @reboot python /home/ops/bot.py\n"
        "@reboot cd /home/ops && python /home/ops/bot.py\n"
        "5 * * * * backup.sh\n"
    )
    [finding] = cron_findings("/etc/cron.d/bot", text, NEEDLES)
    assert (finding.where, finding.lines) == ("/etc/cron.d/bot:2", (2,))
    disabled = comment_out(text, finding.lines, "disabled by tradebotd install")
    assert disabled.splitlines()[1] == (
        "# disabled by tradebotd install: @reboot cd /home/ops && python /home/ops/bot.py"
    )
    assert cron_findings("/etc/cron.d/bot", disabled, NEEDLES) == []


def test_units_and_supervisor_programs_are_found() -> None:
    unit = "[Service]\nExecStart=/usr/bin/python3 /home/ops/bot.py\n"
    assert unit_findings("/etc/systemd/system/oldbot.service", unit, NEEDLES)[0].reason == (
        "runs /home/ops/bot.py"
    )
    assert (
        unit_findings("/etc/systemd/system/nginx.service", "[Service]\nExecStart=nginx\n", NEEDLES)
        == []
    )
    conf = (
        "[program:web]\ncommand=gunicorn app\n\n"
        "[program:oldbot]\ncommand=python /home/ops/bot.py\nautorestart=true\n"
    )
    [finding] = supervisor_findings("/etc/supervisor/conf.d/bots.conf", conf, NEEDLES)
    assert finding.where == "/etc/supervisor/conf.d/bots.conf [program:oldbot]"
    assert finding.lines == (4, 5, 6)  # the section header and its settings
    assert supervisor_findings("x", comment_out(conf, finding.lines, "disabled"), NEEDLES) == []


def test_script_matching_is_by_exact_argument_not_substring() -> None:
    """--script bot.py: `python3 /srv/oldbot/bot.py` runs it; robot.py, otherbot.py,
    `vim bot.py` and `python3 -m bot` do not."""
    needles = Needles(TOKEN, scripts=("bot.py",))
    processes = [
        proc(70, 1, "/usr/bin/python3", "/srv/oldbot/bot.py"),
        proc(71, 1, "python3", "robot.py"),
        proc(72, 1, "python3", "otherbot.py"),
        proc(73, 1, "vim", "bot.py"),
        proc(74, 1, "python3", "-m", "bot"),
        proc(75, 1, "python3", "-u", "-X", "dev", "bot.py"),
        proc(76, 1, "./bot.py"),
        proc(77, 1, "less", "/srv/oldbot/bot.py"),
    ]
    assert [f.pid for f in poller_processes(processes, needles, own_pid=99)] == [70, 75, 76]
    absolute = Needles(TOKEN, scripts=("/srv/oldbot/bot.py",))
    assert [f.pid for f in poller_processes(processes, absolute, own_pid=99)] == [70]


def test_script_matching_in_configuration_lines_is_by_word() -> None:
    needles = Needles(TOKEN, scripts=("bot.py",))
    assert cron_findings("c", "@reboot python3 /srv/robot.py\n", needles) == []
    assert cron_findings("c", "@reboot vim-backup otherbot.py\n", needles) == []
    [found] = unit_findings("u", "[Service]\nExecStart=/usr/bin/python3 /srv/bot.py\n", needles)
    assert found.reason == "runs bot.py"


def test_a_shell_that_exports_the_token_is_spared_its_poller_is_not() -> None:
    """A login shell (or tmux, sudo) with the token exported is not a poller; the
    python it started is, even though its parent matched nothing."""
    env = {"TELEGRAM_BOT_TOKEN": TOKEN}
    processes = [
        proc(80, 1, "-bash", env=env),
        proc(81, 80, "python3", "poll.py", env=env),
        proc(82, 1, "tmux: server", env=env),
        proc(83, 82, "/usr/bin/zsh", env=env),
        proc(84, 1, "sudo", "-E", "python3", "x.py", env=env),
        proc(85, 84, "python3", "x.py", env=env),
    ]
    assert program_name(("-bash",)) == "bash"
    assert [f.pid for f in poller_processes(processes, NEEDLES, own_pid=99)] == [81, 85]


def test_own_units_are_spared_by_exact_name_only() -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN}
    processes = [
        proc(90, 1, "python3", "a.py", env=env, cgroup="0::/system.slice/tradebotd.service"),
        proc(91, 1, "python3", "b.py", env=env, cgroup="0::/system.slice/tradebotd-digest.service"),
        proc(92, 1, "python3", "c.py", env=env, cgroup="0::/system.slice/old-tradebotd.service"),
        proc(93, 1, "python3", "d.py", env=env, cgroup="0::/system.slice/tradebotd.service.bak"),
    ]
    assert [f.pid for f in poller_processes(processes, NEEDLES, own_pid=99)] == [92, 93]
    assert in_own_unit("12:pids:/system.slice/tradebotd.service\n0::/system.slice/x")
