"""A threaded HTTP/1.1 server for 127.0.0.1 that starts and stops quickly and cleanly (the fake and the gateway)."""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import ThreadingHTTPServer
from typing import Any, Self


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler_class: Any) -> None:
        super().__init__(address, handler_class)
        self.connections = 0  # TCP connections accepted: keep-alive tests count them
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # else small answers stall ~40 ms (Nagle)
        with self._lock:
            self.connections += 1
            self._open.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def start(self, name: str = "loopback-server") -> Self:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name=name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, end kept-alive connections (their threads then finish), release the port."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):  # the client may have gone already
                    sock.shutdown(socket.SHUT_RDWR)
        self.server_close()
