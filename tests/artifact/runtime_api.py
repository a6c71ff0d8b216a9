"""A stand-in for the Lambda Runtime API on 127.0.0.1, for one runtime process serving invocations one at a time.

Speaks what a runtime interface client (awslambdaric) uses of the 2018-06-01 API: `GET /runtime/invocation/next` (held
until `invoke` queues an event; the answer carries the request id, deadline and function ARN headers),
`POST /runtime/invocation/{id}/response`, `POST /runtime/invocation/{id}/error` (its body and the
`Lambda-Runtime-Function-Error-Type` header are what a synchronous invoker receives) and `POST /runtime/init/error`.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from local.loopback import LoopbackServer

PREFIX = "/2018-06-01/runtime"


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


class RuntimeApi:
    """`api = RuntimeApi().start()`; give the runtime `api.address` as AWS_LAMBDA_RUNTIME_API; `api.invoke(event)`."""

    def __init__(self) -> None:
        self.pending: queue.Queue[Invocation] = queue.Queue()
        self.by_id: dict[str, Invocation] = {}
        self.init_error: dict[str, Any] | None = None
        self.first_poll = threading.Event()  # the first GET /next: the handler imported
        self._server = LoopbackServer(("127.0.0.1", 0), _handler_class(self))
        self.address = self._server.url.removeprefix("http://")

    def start(self) -> RuntimeApi:
        self._server.start("runtime-api")
        return self

    def stop(self) -> None:
        self._server.stop()

    def wait_ready(self, timeout: float, alive: Callable[[], bool]) -> None:
        """Until the runtime asks for its first event, reports an init error, or `alive()` turns false."""
        deadline = time.monotonic() + timeout
        while not self.first_poll.wait(0.2):
            if self.init_error is not None or not alive() or time.monotonic() > deadline:
                raise RuntimeError(
                    json.dumps(self.init_error) if self.init_error else f"no GET /next (alive: {alive()})"
                )

    def invoke(self, event: Any, timeout: float = 60.0) -> Invocation:
        """Hand `event` to the runtime and wait for its answer (a synchronous, RequestResponse invocation)."""
        invocation = Invocation(json.dumps(event).encode())
        self.by_id[invocation.request_id] = invocation
        self.pending.put(invocation)
        if not invocation.done.wait(timeout):
            raise TimeoutError(f"no answer to invocation {invocation.request_id} within {timeout:.0f} s")
        return invocation


def _handler_class(api: RuntimeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path != f"{PREFIX}/invocation/next":
                self._reply(404, b'{"errorMessage": "not found"}')
                return
            api.first_poll.set()
            invocation = api.pending.get()
            self._reply(200, invocation.payload, {
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(int((time.time() + 60) * 1000)),
                "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:paddle-portal",
            })  # fmt: skip

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = self.path.removeprefix(PREFIX).strip("/").split("/")
            if parts == ["init", "error"]:
                api.init_error = json.loads(body or b"{}")
            elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                if (invocation := api.by_id.pop(parts[1], None)) is None:
                    self._reply(400, b'{"errorMessage": "unknown request id"}')
                    return
                error_type = self.headers.get("Lambda-Runtime-Function-Error-Type") or "Unhandled"
                invocation.body, invocation.error_type = body, error_type if parts[2] == "error" else None
                invocation.done.set()
            else:
                self._reply(404, b'{"errorMessage": "not found"}')
                return
            self._reply(202, b'{"status": "OK"}')

        def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            sent = {"Content-Type": "application/json", "Content-Length": str(len(body)), **(headers or {})}
            self.send_response(status)
            for name, value in sent.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the invocations are the tests' to report."""

    return Handler
