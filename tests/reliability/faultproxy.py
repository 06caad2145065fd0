"""A TCP proxy on loopback that can cut every connection and refuse new ones: a real outage, on demand.

Tests point a worker's DATABASE_URL at the proxy instead of PostgreSQL, then call :meth:`FaultProxy.outage` to
make the database unreachable for a while: open connections are reset and new ones are refused, exactly what a
worker sees when the server restarts or the network drops. The real server is untouched, so other tests are not.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator


class FaultProxy:
    """Forward 127.0.0.1:<port> to ``target``; ``down()`` / ``up()`` switch a simulated outage."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port: int = self._listener.getsockname()[1]
        self._available = threading.Event()
        self._available.set()
        self._closing = False
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self.connections_accepted = 0
        self.connections_refused = 0
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Reset every open connection and refuse new ones until :meth:`up`."""
        self._available.clear()
        with self._lock:
            for s in list(self._sockets):
                _reset(s)
            self._sockets.clear()

    def up(self) -> None:
        self._available.set()

    @contextlib.contextmanager
    def outage(self, seconds: float) -> Iterator[None]:
        self.down()
        try:
            time.sleep(seconds)
            yield
        finally:
            self.up()

    def close(self) -> None:
        self._closing = True
        self.down()
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._available.is_set():
                self.connections_refused += 1
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            self.connections_accepted += 1
            with self._lock:
                self._sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with self._lock:
                    self._sockets.discard(s)
                _reset(s)


def _reset(s: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a crashed peer would, rather than a polite FIN.

    shutdown() first: close() alone does not wake a thread blocked in recv() on the socket, which would keep the
    connection (and the PostgreSQL backend behind it) alive.
    """
    with contextlib.suppress(OSError):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        s.close()
