"""The single-instance guard: lock file per state directory, host-wide guard per token."""

from __future__ import annotations

import asyncio
import fcntl
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from daemon import guard

TOKEN = "123456:guard-test-token-not-a-real-one-0000"
HOLDER = """
import sys, time
from pathlib import Path
from daemon import guard
held = guard.acquire(Path(sys.argv[1]), sys.argv[2])
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the guard for TOKEN on tmp_path/held."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "held"), TOKEN],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    yield process
    process.kill()
    process.wait()


def test_same_state_directory_names_the_lock_holder(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(guard.AlreadyRunning) as caught:
        guard.acquire(tmp_path / "held", "999:another-token-entirely-different-0000")
    assert caught.value.pid == holder.pid
    assert str(caught.value) == (
        f"another tradebotd (pid {holder.pid}) already holds the lock "
        f"{tmp_path / 'held' / 'tradebotd.lock'}; not polling"
    )


def test_other_state_directory_same_token_names_the_guard_holder(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    """The host-wide guard reads the holder's PID over SO_PEERCRED."""
    with pytest.raises(guard.AlreadyRunning) as caught:
        guard.acquire(tmp_path / "elsewhere", TOKEN)
    assert caught.value.pid == holder.pid
    assert "already holds the host-wide guard for this token" in str(caught.value)
    # A refused attempt leaves nothing held: its lock file is free again.
    guard.take_lock_file_in(tmp_path / "elsewhere")


def test_other_token_on_another_state_directory_runs_alongside(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    held = guard.acquire(tmp_path / "mine", "777:a-different-bot-token-entirely-0000")
    held.release()


def test_a_killed_holder_frees_both_guards(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    """Kernel-held locks: no stale lock file to clean up after kill -9."""
    holder.kill()
    holder.wait()
    held = guard.acquire(tmp_path / "held", TOKEN)
    assert (tmp_path / "held" / "tradebotd.lock").read_text().strip().isdigit()
    held.release()


def test_many_probes_never_fill_the_guard_backlog(tmp_path: Path) -> None:
    """A guard that answers probes keeps telling each new copy who holds it."""

    async def probe_many() -> None:
        held = guard.acquire(tmp_path / "a", TOKEN)
        held.answer_probes(asyncio.get_running_loop())
        for _ in range(20):
            with pytest.raises(guard.AlreadyRunning) as caught:
                await asyncio.to_thread(guard.acquire, tmp_path / "b", TOKEN)
            assert caught.value.pid == os.getpid()
        held.release(asyncio.get_running_loop())

    asyncio.run(probe_many())


def test_the_live_lock_holder_comes_from_the_kernel_not_the_file(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    """/proc/locks names the holder while it lives; after kill -9 the PID left in the
    file no longer counts."""
    lock = tmp_path / "held" / "tradebotd.lock"
    assert guard.live_holder(lock) == holder.pid
    holder.kill()
    holder.wait()
    assert guard.read_pid(lock) == holder.pid  # still written there
    assert guard.live_holder(lock) is None


def test_flock_holders_reads_only_held_flocks_of_that_file() -> None:
    table = (
        "1: POSIX  ADVISORY  WRITE 11 fe:00:77 0 EOF\n"
        "2: FLOCK  ADVISORY  WRITE 22 fe:00:77 0 EOF\n"
        "3: FLOCK  ADVISORY  WRITE 33 fe:00:78 0 EOF\n"
        "3: -> FLOCK  ADVISORY  WRITE 44 fe:00:77 0 EOF\n"
    )
    assert guard.flock_holders(table, 0xFE, 0, 77) == [22]


def test_only_root_or_our_own_user_can_hold_the_guard() -> None:
    assert guard.is_trusted_holder(0, 1000)
    assert guard.is_trusted_holder(1000, 1000)
    assert not guard.is_trusted_holder(1001, 1000)


SQUATTER = """
import os, socket, sys, time
from daemon import guard
os.setgid(65534)
os.setuid(65534)
squat = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
squat.bind(guard.guard_name(sys.argv[1]))
squat.listen(8)
print("squatting", flush=True)
while True:
    connection, _ = squat.accept()
    connection.close()
"""


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to run a squatter as another user")
def test_another_users_squatter_on_the_guard_name_cannot_block_the_daemon(
    tmp_path: Path,
) -> None:
    """A local user (here nobody) binds the abstract name first: not a tradebotd of ours,
    so the daemon warns and relies on its lock file."""
    squatter = subprocess.Popen(
        [sys.executable, "-c", SQUATTER, TOKEN], stdout=subprocess.PIPE, text=True
    )
    try:
        assert squatter.stdout is not None
        assert squatter.stdout.readline().strip() == "squatting"
        held = guard.acquire(tmp_path / "mine", TOKEN)
        try:
            # The lock file still guards: a second copy on the same state directory is refused.
            with pytest.raises(guard.AlreadyRunning):
                guard.acquire(tmp_path / "mine", TOKEN)
        finally:
            held.release()
    finally:
        squatter.kill()
        squatter.wait()


def test_a_held_lock_is_seen_without_proc_and_a_probe_never_blocks_a_start(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    """lock_is_held asks with a shared lock (the digest's sandbox hides /proc/locks);
    a copy starting while a probe holds it briefly still gets the lock."""
    lock = tmp_path / "held" / "tradebotd.lock"
    assert guard.lock_is_held(lock)
    holder.kill()
    holder.wait()
    assert not guard.lock_is_held(lock)
    assert not guard.lock_is_held(tmp_path / "nowhere" / "tradebotd.lock")
    assert not (tmp_path / "nowhere").exists()  # the probe creates nothing
    probe = os.open(lock, os.O_RDONLY)
    fcntl.flock(probe, fcntl.LOCK_SH)  # a probe caught mid-way...
    threading.Timer(0.05, os.close, (probe,)).start()  # ...lets go 50 ms later
    fd = guard.take_lock_file(lock)
    os.close(fd)


def test_a_lock_file_root_creates_belongs_to_the_state_directorys_owner(tmp_path: Path) -> None:
    """`db upgrade` and `restore` run as root take the lock too: a lock file left owned
    by root would keep the service user's daemon from opening it again."""
    if os.geteuid() != 0:
        pytest.skip("needs root to hand a directory to another user")
    state = tmp_path / "state"
    state.mkdir()
    os.chown(state, 65534, 65534)  # nobody: the service user's stand-in
    fd = guard.take_lock_file_in(state)
    try:
        lock = (state / guard.LOCK_NAME).stat()
        assert (lock.st_uid, lock.st_gid) == (65534, 65534)
    finally:
        os.close(fd)
