"""One poller per token: a lock file in the state directory plus a host-wide guard.

Both are taken before any network call. The lock file stops a second copy on the same
state directory; the host-wide guard, an abstract unix socket named after a hash of the
token, stops a copy started elsewhere on this host with another state directory. A copy
that finds either taken learns the holder's PID (from the lock file, or from the socket
with SO_PEERCRED) and reports it.

Any local user can bind an abstract name. A holder that is neither root nor our own user
is a squatter, not a tradebotd: it is reported at WARNING and the lock file alone then
guards (it lives in a directory only the service user can write), so another local user
cannot keep the daemon from starting.

Abstract sockets belong to a network namespace: a copy in a container with its own
network is not seen by the host-wide guard (the installer's legacy scan covers that).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import os
import socket
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from daemon.numbers import ascii_int

LOCK_NAME = "tradebotd.lock"
PID_MAX = 4_194_304  # Linux's largest pid_max


class AlreadyRunning(RuntimeError):
    """Another process holds the lock or the guard; str() is the line to print."""

    def __init__(self, pid: int | None, what: str):
        self.pid = pid
        holder = f"pid {pid}" if pid else "a process whose pid could not be read"
        super().__init__(f"another tradebotd ({holder}) already holds {what}; not polling")


def guard_name(token: str, node: str | None = None) -> bytes:
    """The abstract socket name for a token; in a cluster, for the token and this node's
    name: two nodes of one cluster may share a host (drills, tests), two copies of one
    node may not."""
    key = token if node is None else f"{token}\0{node}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return b"\0tradebotd/" + digest.encode()


def read_pid(path: Path) -> int | None:
    """The PID a lock holder wrote into its lock file, or None."""
    # The holder writes its PID right after locking: allow it a moment.
    for _ in range(20):
        with contextlib.suppress(OSError):
            pid = ascii_int(path.read_text().strip(), 1, PID_MAX)
            if pid is not None:
                return pid
        time.sleep(0.01)
    return None


def flock_holders(proc_locks: str, major: int, minor: int, inode: int) -> list[int]:
    """PIDs holding a FLOCK on the file (major:minor:inode), from /proc/locks. Pure.

    Lines read "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF" (device numbers in
    hex); a waiting lock ("1: -> FLOCK …") is not held and is skipped. A holder outside
    the reader's PID namespace is listed with PID 0: held, by a process not seen here."""
    wanted = f"{major:02x}:{minor:02x}:{inode}"
    holders = []
    for line in proc_locks.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == wanted:
            pid = ascii_int(fields[4], 0, PID_MAX)
            if pid is not None:
                holders.append(pid)
    return holders


def live_holder(path: Path, proc: Path = Path("/proc")) -> int | None:
    """The PID of a live process holding the poller lock at `path` (0: one this process
    cannot see), or None: read from the kernel's lock table, so a stale PID in the file
    (a kill -9) never counts."""
    try:
        stat = path.stat()
        table = (proc / "locks").read_text()
    except OSError:
        return None
    holders = flock_holders(table, os.major(stat.st_dev), os.minor(stat.st_dev), stat.st_ino)
    return holders[0] if holders else None


def lock_is_held(path: Path) -> bool:
    """True while some process holds the lock at `path`, asked without /proc (the digest
    unit's sandbox hides /proc/locks): a shared lock is tried and, when it is granted,
    dropped at once. take_lock_file waits out such a probe."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)  # never creates the file
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # releases the probe's lock, if it got one
    return False


# A probe (lock_is_held) holds the lock for microseconds: wait that out before deciding
# that another copy runs.
PROBE_PATIENCE = 20  # tries, 10 ms apart


def give_to_directory_owner(path: Path) -> None:
    """A file root's tools (db upgrade, restore) create in the state directory belongs to
    the directory's owner, the service user, or the daemon could not open it again. Only
    then: a hardened unit may run as root without CAP_CHOWN, in a directory of root's."""
    owner = path.parent.stat()
    if os.geteuid() == 0 and owner.st_uid != 0:
        os.chown(path, owner.st_uid, owner.st_gid)


def take_lock_file(path: Path) -> int:
    """Lock `path` exclusively (non-blocking) and write our PID; returns the fd to keep."""
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    if created:
        give_to_directory_owner(path)
    for attempt in range(PROBE_PATIENCE):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                os.close(fd)
                raise
            if attempt == PROBE_PATIENCE - 1:
                os.close(fd)
                raise AlreadyRunning(read_pid(path), f"the lock {path}") from None
            time.sleep(0.01)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _peer(name: bytes) -> tuple[int, int] | None:
    """(pid, uid) of the process listening on the abstract `name`, or None."""
    # A holder binds, then listens: a probe in between is refused, so try a few times.
    for _ in range(3):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            probe.settimeout(2)
            probe.connect(name)
            creds = probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            pid, uid, _gid = struct.unpack("3i", creds)
            return pid, uid
        except OSError:
            time.sleep(0.05)
        finally:
            probe.close()
    return None


def is_trusted_holder(uid: int, own_uid: int) -> bool:
    """Only root or our own user can be a tradebotd holding the guard. Pure."""
    return uid in (0, own_uid)


def _take_host_guard(token: str, node: str | None) -> socket.socket | None:
    """The bound guard socket; None when a squatter holds the name (the lock file then
    guards alone)."""
    name = guard_name(token, node)
    holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        holder.bind(name)
    except OSError as exc:
        holder.close()
        if exc.errno != errno.EADDRINUSE:
            raise
        peer = _peer(name)
        if peer is not None and is_trusted_holder(peer[1], os.getuid()):
            raise AlreadyRunning(peer[0] or None, "the host-wide guard for this token") from None
        logger.warning(
            "the host-wide guard for this token is held by {}: not a tradebotd of this "
            "user; relying on the lock file alone",
            f"pid {peer[0]} of uid {peer[1]}" if peer else "a process that does not answer",
        )
        return None
    # Listening lets a second copy connect and read our PID with SO_PEERCRED.
    holder.listen(8)
    return holder


def take_lock_file_in(state_directory: Path) -> int:
    state_directory.mkdir(parents=True, exist_ok=True, mode=0o750)
    return take_lock_file(state_directory / LOCK_NAME)


@dataclass
class Guard:
    lock_path: Path
    _lock_fd: int
    _socket: socket.socket | None

    def answer_probes(self, loop: asyncio.AbstractEventLoop) -> None:
        """Accept and drop probe connections so the backlog never fills up."""
        held = self._socket
        if held is None:
            return
        held.setblocking(False)

        def accept() -> None:
            with contextlib.suppress(OSError):
                connection, _ = held.accept()
                connection.close()

        loop.add_reader(held.fileno(), accept)

    def release(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        if self._socket is not None:
            if loop is not None:
                loop.remove_reader(self._socket.fileno())
            self._socket.close()
        with contextlib.suppress(OSError):
            os.close(self._lock_fd)


def acquire(state_directory: Path, token: str, node: str | None = None) -> Guard:
    """Take both guards or raise AlreadyRunning (nothing is left held on failure).
    `node`: this node's name in a cluster ([ha]), or None for a single node."""
    lock_fd = take_lock_file_in(state_directory)
    try:
        host_socket = _take_host_guard(token, node)
    except BaseException:
        os.close(lock_fd)
        raise
    return Guard(state_directory / LOCK_NAME, lock_fd, host_socket)
