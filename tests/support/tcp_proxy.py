"""A TCP proxy on loopback that a test can cut: how one node loses its database while
the other keeps it (the network between a node and PostgreSQL fails, nothing else)."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading


class CuttableProxy:
    """Forwards 127.0.0.1:`port` to `target`. `cut()` resets every connection and refuses
    new ones (a firewall's REJECT); `heal()` accepts again."""

    def __init__(self, target: tuple[str, int]):
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._cut = False
        self._severed = threading.Event()  # set by the proxy's thread once cut
        self._closed = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        while not self._closed:
            if self._cut and not self._severed.is_set():
                self._sever(selector)
            for key, _ in selector.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    self._accept(selector)
                else:
                    self._forward(selector, sock, key.data)
        selector.close()

    def _accept(self, selector: selectors.BaseSelector) -> None:
        client, _ = self._listener.accept()
        if self._cut:
            _reset(client)
            return
        try:
            upstream = socket.create_connection(self._target, timeout=2)
        except OSError:
            _reset(client)
            return
        self._pairs.append((client, upstream))
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)

    def _forward(self, selector: selectors.BaseSelector, sock: socket.socket,
                 peer: socket.socket) -> None:  # fmt: skip
        try:
            data = sock.recv(65536)
            if data:
                peer.sendall(data)
                return
        except OSError:
            pass
        for end in (sock, peer):
            with contextlib.suppress(KeyError, ValueError):
                selector.unregister(end)
            end.close()

    def _sever(self, selector: selectors.BaseSelector) -> None:
        pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            for end in (client, upstream):
                with contextlib.suppress(KeyError, ValueError):
                    selector.unregister(end)
            _reset(client)
            upstream.close()
        self._severed.set()

    def cut(self) -> None:
        self._severed.clear()
        self._cut = True
        self._severed.wait(5)

    def heal(self) -> None:
        self._cut = False
        self._severed.clear()

    def close(self) -> None:
        if not self._closed:
            self.cut()
        self._closed = True
        self._thread.join(2)
        self._listener.close()


def _reset(sock: socket.socket) -> None:
    """Close with RST, as a REJECT rule would answer."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
