"""A stand-in for the Lambda Runtime API on 127.0.0.1, for one runtime process serving invocations one at a time.

Speaks what a runtime interface client (awslambdaric) uses of the 2018-06-01 API: `GET /runtime/invocation/next` (held
until `invoke` queues an event; the answer carries the request id, deadline and function ARN headers),
`POST /runtime/invocation/{id}/response`, `POST /runtime/invocation/{id}/error` (the body and the
`Lambda-Runtime-Function-Error-Type` header are what a synchronous invoker then receives) and
`POST /runtime/init/error`.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from local.loopback import LoopbackServer

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:paddle-portal"


@dataclass
class Invocation:
    """One event handed to the runtime, and what the runtime answered."""

    payload: bytes
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    done: threading.Event = field(default_factory=threading.Event)
    body: bytes = b""
    error_type: str | None = None  # set when the runtime posted to /error: Lambda's FunctionError is then "Unhandled"

    def json(self) -> Any:
        return json.loads(self.body)


class InitError(RuntimeError):
    """The runtime reported that it could not initialise (the handler did not import)."""


class RuntimeApi:
    """`api = RuntimeApi().start()`; give the runtime `api.address` as AWS_LAMBDA_RUNTIME_API; `api.invoke(event)`."""

    def __init__(self) -> None:
        self._pending: queue.Queue[Invocation] = queue.Queue()
        self._by_id: dict[str, Invocation] = {}
        self._lock = threading.Lock()
        self.init_error: dict[str, Any] | None = None
        self.polls = 0  # GET /next calls: the first one means the handler imported
        self.first_poll = threading.Event()
        self._server = LoopbackServer(("127.0.0.1", 0), _handler_class(self))

    @property
    def address(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"{host}:{port}"

    def start(self) -> RuntimeApi:
        self._server.start("runtime-api")
        return self

    def stop(self) -> None:
        self._server.stop()

    def wait_ready(self, timeout: float, alive: Any) -> None:
        """Until the runtime asks for its first event (init done), it reports an init error, or `alive()` is false."""
        deadline = time.monotonic() + timeout
        while not self.first_poll.wait(0.2):
            if self.init_error is not None:
                raise InitError(json.dumps(self.init_error))
            if not alive():
                raise InitError("the runtime process exited before asking for an event")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the runtime did not ask for an event within {timeout:.0f} s")

    def invoke(self, event: Any, timeout: float = 60.0) -> Invocation:
        """Hand `event` to the runtime and wait for its answer (a synchronous, RequestResponse invocation)."""
        invocation = Invocation(json.dumps(event).encode())
        with self._lock:
            self._by_id[invocation.request_id] = invocation
        self._pending.put(invocation)
        if not invocation.done.wait(timeout):
            raise TimeoutError(f"no answer to invocation {invocation.request_id} within {timeout:.0f} s")
        return invocation

    def _next(self) -> Invocation:
        self.polls += 1
        self.first_poll.set()
        return self._pending.get()

    def _finish(self, request_id: str, body: bytes, error_type: str | None) -> bool:
        with self._lock:
            invocation = self._by_id.pop(request_id, None)
        if invocation is None:
            return False
        invocation.body, invocation.error_type = body, error_type
        invocation.done.set()
        return True


def _handler_class(api: RuntimeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path != f"{PREFIX}/invocation/next":
                self._reply(404, {"errorMessage": "not found"})
                return
            invocation = api._next()
            deadline_ms = int((time.time() + 60) * 1000)
            self._reply(
                200,
                invocation.payload,
                {
                    "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                },
            )

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = self.path.removeprefix(PREFIX).strip("/").split("/")
            if parts == ["init", "error"]:
                api.init_error = json.loads(body or b"{}")
                self._reply(202, {"status": "OK"})
            elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                error_type = self.headers.get("Lambda-Runtime-Function-Error-Type") if parts[2] == "error" else None
                known = api._finish(parts[1], body, error_type or ("Unhandled" if parts[2] == "error" else None))
                self._reply(202 if known else 400, {"status": "OK"} if known else {"errorMessage": "unknown id"})
            else:
                self._reply(404, {"errorMessage": "not found"})

        def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the invocations are the tests' to report."""

    return Handler
