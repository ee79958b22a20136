"""One poller per token: a lock file in the state directory plus a host-wide guard.

Both are taken before any network call. The lock file stops a second copy on the same
state directory; the host-wide guard, an abstract unix socket named after a hash of the
token, stops a copy started elsewhere on this host with another state directory. A copy
that finds either taken learns the holder's PID (from the lock file, or from the socket
with SO_PEERCRED) and reports it.

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

LOCK_NAME = "tradebotd.lock"


class AlreadyRunning(RuntimeError):
    """Another process holds the lock or the guard; str() is the line to print."""

    def __init__(self, pid: int | None, what: str):
        self.pid = pid
        holder = f"pid {pid}" if pid else "a process whose pid could not be read"
        super().__init__(f"another tradebotd ({holder}) already holds {what}; not polling")


def guard_name(token: str) -> bytes:
    digest = hashlib.sha256(token.encode()).hexdigest()[:32]
    return b"\0tradebotd/" + digest.encode()


def read_pid(path: Path) -> int | None:
    """The PID a lock holder wrote into its lock file, or None."""
    # The holder writes its PID right after locking: allow it a moment.
    for _ in range(20):
        with contextlib.suppress(OSError):
            text = path.read_text().strip()
            if text.isdigit():
                return int(text)
        time.sleep(0.01)
    return None


def take_lock_file(path: Path) -> int:
    """Lock `path` exclusively (non-blocking) and write our PID; returns the fd to keep."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EACCES):
            raise AlreadyRunning(read_pid(path), f"the lock {path}") from None
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _peer_pid(name: bytes) -> int | None:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        probe.settimeout(2)
        probe.connect(name)
        creds = probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, _uid, _gid = struct.unpack("3i", creds)
        return pid or None
    except OSError:
        return None
    finally:
        probe.close()


def _take_host_guard(token: str) -> socket.socket:
    name = guard_name(token)
    holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        holder.bind(name)
    except OSError as exc:
        holder.close()
        if exc.errno == errno.EADDRINUSE:
            raise AlreadyRunning(_peer_pid(name), "the host-wide guard for this token") from None
        raise
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
    _socket: socket.socket

    def answer_probes(self, loop: asyncio.AbstractEventLoop) -> None:
        """Accept and drop probe connections so the backlog never fills up."""
        self._socket.setblocking(False)

        def accept() -> None:
            with contextlib.suppress(OSError):
                connection, _ = self._socket.accept()
                connection.close()

        loop.add_reader(self._socket.fileno(), accept)

    def release(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        if loop is not None:
            loop.remove_reader(self._socket.fileno())
        self._socket.close()
        with contextlib.suppress(OSError):
            os.close(self._lock_fd)


def acquire(state_directory: Path, token: str) -> Guard:
    """Take both guards or raise AlreadyRunning (nothing is left held on failure)."""
    lock_fd = take_lock_file_in(state_directory)
    try:
        host_socket = _take_host_guard(token)
    except BaseException:
        os.close(lock_fd)
        raise
    return Guard(state_directory / LOCK_NAME, lock_fd, host_socket)
