"""Prism (Stoplight's OpenAPI mock server and validating proxy) on Paddle's document, and a recording tap in front.

With `--errors`, Prism refuses what violates Paddle's document instead of answering normally:
- mock mode: the request gets an error status (401 for the security scheme, 422 for the body) and an `sl-violations`
  header listing what is wrong;
- proxy mode: a bad request is answered by Prism itself (422/401, `application/problem+json` with a `validation`
  list) and never forwarded; an upstream answer that breaks the document becomes a 500 with `sl-violations`.
The tap is a loopback HTTP proxy between our code and Prism that records each exchange (what we sent, Prism's status
and its violations, from either form), so a test can assert on both sides of the wire.
"""

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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import pytest
import urllib3

REPO = Path(__file__).resolve().parents[2]
PRISM_BIN = REPO / "node_modules" / ".bin" / "prism"
STARTUP_SECONDS = 60.0
NOT_INSTALLED = (
    "Prism is not installed: run `npm ci` in the repository root (`make venv` does it; it needs Node.js >= 18.20 "
    "and reaches the npm registry once). The contract tests need it and are not skipped without it."
)


class PrismError(RuntimeError):
    pass


class PrismExitedError(PrismError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Prism:
    """`prism mock --errors <document>` (or `prism proxy --errors <document> <upstream>`) on a free loopback port,
    started and stopped by this object."""

    def __init__(self, document: Path, log: IO[bytes], upstream: str | None = None) -> None:
        if not PRISM_BIN.exists():
            raise PrismError(NOT_INSTALLED)
        if shutil.which("node") is None:
            raise PrismError("Node.js is not on PATH; Prism needs it (Node.js >= 18.20).")
        self.document = document
        self.upstream = upstream
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Prism:
        for attempt in range(3):
            if attempt:  # the free port was taken before Prism bound it: try another
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
            try:
                self._spawn()
                self._wait_until_ready()
                return self
            except PrismExitedError:
                continue
        raise PrismError("Prism exited before it was ready, three times (its output follows)")

    def _spawn(self) -> None:
        mode = ["mock", str(self.document)] if self.upstream is None else ["proxy", str(self.document), self.upstream]
        command = [str(PRISM_BIN), *mode, "-p", str(self.port), "-h", "127.0.0.1", "--errors"]
        env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"}
        self._process = subprocess.Popen(  # noqa: S603 - our own pinned tool, fixed arguments
            command,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: stop() ends Prism and anything it forked
        )

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=1.0, read=5.0))
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise PrismExitedError(f"Prism exited with status {self._process.returncode} before it was ready")
            try:
                # Any answer (even a 404 for this path) means it is listening and has loaded the document.
                http.request("GET", f"{self.url}/__ready__")
                return
            except urllib3.exceptions.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise PrismError(f"Prism did not answer on {self.url} within {STARTUP_SECONDS:.0f} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_process_group(process)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group started with `start_new_session=True`; SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
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
    headers: dict[str, str]  # lower-case names, as sent by our code
    body: bytes
    status: int  # Prism's answer
    violations: list[dict[str, Any]]  # Prism's `sl-violations`, parsed; empty when the request conforms

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
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> PrismTap:
        self._server = _TapServer(self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="prism-tap", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        with self._lock:
            self.exchanges.clear()
            self.expecting_violations = False

    def record(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def violating(self) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.violations or e.status >= 400]

    @contextmanager
    def expect_violations(self) -> Iterator[None]:
        """For the tests that send a bad request on purpose: the fixture's final check does not object."""
        self.expecting_violations = True
        yield


def prism_violations(answer: urllib3.BaseHTTPResponse) -> list[dict[str, Any]]:
    """What Prism found wrong with an exchange: its `sl-violations` header, else the `validation` list of the
    problem document it answered with itself (proxy mode), else nothing."""
    raw = answer.headers.get("sl-violations")
    if raw:
        return list(json.loads(raw))
    if answer.headers.get("content-type", "").startswith("application/problem+json"):
        problem = json.loads(answer.data)
        if str(problem.get("type", "")).startswith("https://stoplight.io/prism/errors#"):
            fallback = {"location": ["request"], "code": problem.get("status"), "message": problem.get("title")}
            return list(problem.get("validation") or [fallback])
    return []


class _TapServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tap: PrismTap) -> None:
        self.tap = tap
        self.http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2.0, read=20.0))
        super().__init__(("127.0.0.1", 0), _TapHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # else small requests stall ~40 ms
        return sock, address


class _TapHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TapServer

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        upstream_headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        answer = self.server.http.request(
            self.command, self.server.tap.upstream + self.path, body=body or None, headers=upstream_headers
        )
        violations = prism_violations(answer)
        self.server.tap.record(Exchange(self.command, self.path, headers, body, answer.status, violations))
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            if name.lower() not in ("content-length", "connection", "keep-alive", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.data)))
        self.end_headers()
        self.wfile.write(answer.data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the exchanges are the log


@dataclass(frozen=True)
class PaddleTarget:
    """Whom the Prism tests talk to, with what: Prism's mock (made-up ids, the fake key) or the sandbox."""

    upstream: str | None  # None: Prism mocks Paddle from the document
    api_key: str
    customer_id: str
    subscription_ids: tuple[str, ...]

    @property
    def live(self) -> bool:
        return self.upstream is not None

    def ids(self, count: int) -> list[str]:
        """`count` subscription ids of the customer; skips a test against the sandbox that was given fewer."""
        if count > len(self.subscription_ids):
            pytest.skip(f"needs {count} subscription ids of the customer in PADDLE_CONTRACT_SUBSCRIPTION_IDS")
        return list(self.subscription_ids[:count])
