"""Prism (Stoplight's OpenAPI mock server) on Paddle's document, and a recording tap in front. With `--errors`, Prism
answers what breaks the document with 401 (security scheme) or 422 (body, query) and an `sl-violations` header; the tap,
a loopback proxy between our code and Prism, records each exchange (what we sent, Prism's status and violations)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import IO, Any

import urllib3

from local.loopback import LoopbackServer

REPO = Path(__file__).resolve().parents[2]
PRISM_BIN = REPO / "node_modules" / ".bin" / "prism"
STARTUP_SECONDS = 60.0


class PrismError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Prism:
    """`prism mock --errors <document>` on a free loopback port."""

    def __init__(self, document: Path, log: IO[bytes]) -> None:
        if not PRISM_BIN.exists() or shutil.which("node") is None:
            raise PrismError("Prism is not installed: `npm ci` in the repository root (`make venv` does; Node.js >= "
                             "18.20). The contract tests need it and are not skipped without it.")  # fmt: skip
        self.command, self.log = [str(PRISM_BIN), "mock", str(document), "-h", "127.0.0.1", "--errors", "-p"], log
        self.url, self._process = "", None

    def start(self) -> Prism:
        for _ in range(3):  # another process may take the free port before Prism binds it
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            self._process = subprocess.Popen(  # noqa: S603 - our own pinned tool, fixed arguments
                [*self.command, str(port)], stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                env={**os.environ, "NO_COLOR": "1"}, start_new_session=True,
            )  # fmt: skip
            deadline = time.monotonic() + STARTUP_SECONDS
            while self._process.poll() is None and time.monotonic() < deadline:
                try:  # any answer (a 404 here) means it listens and has loaded the document
                    urllib3.request("GET", f"{self.url}/__ready__", retries=False, timeout=5)
                    return self
                except urllib3.exceptions.HTTPError:
                    time.sleep(0.1)
            self.stop()
        raise PrismError("Prism did not start (three tries; its output follows)")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_process_group(process)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group started with `start_new_session=True`; SIGKILL it if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names, as our code sent them
    body: bytes
    status: int  # Prism's answer
    violations: list[dict[str, Any]]  # what Prism found wrong; empty when the exchange conforms

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def describe(self) -> str:
        return f"{self.method} {self.path} -> {self.status} {json.dumps(self.violations)}"


@dataclass
class PrismTap:
    """A recording proxy in front of Prism. Point PADDLE_API_BASE_URL (or a client's base_url) at `url`."""

    upstream: str
    exchanges: list[Exchange] = field(default_factory=list)
    expecting_violations: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> PrismTap:
        self._server = LoopbackServer(("127.0.0.1", 0), _tap_handler(self)).start("prism-tap")
        self.url = self._server.url
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        with self._lock:
            self.exchanges.clear()
            self.expecting_violations = False

    def violating(self) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.violations or e.status >= 400]

    @contextmanager
    def expect_violations(self) -> Iterator[None]:
        """For tests that send a bad request on purpose: the `prism` fixture's final check does not object."""
        self.expecting_violations = True
        yield


def _tap_handler(tap: PrismTap) -> type[BaseHTTPRequestHandler]:
    http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2.0, read=20.0))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            sent = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            answer = http.request(self.command, tap.upstream + self.path, body=body or None, headers=sent)
            headers = {name.lower(): value for name, value in self.headers.items()}
            violations = json.loads(answer.headers.get("sl-violations") or "[]")
            with tap._lock:
                tap.exchanges.append(Exchange(self.command, self.path, headers, body, answer.status, violations))
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                if name.lower() not in ("content-length", "connection", "keep-alive", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.data)))
            self.end_headers()
            self.wfile.write(answer.data)

        do_GET = do_POST = _forward

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the exchanges are the log

    return Handler
