"""Lambda's Invoke API for the local run, as `sam local start-lambda` serves it: other code invokes the real handler
with `boto3.client("lambda", endpoint_url=...)`, the way it invokes the deployed function.

`POST /2015-03-31/functions/<name>/invocations`, the payload as the body. The function is named by its logical id in
template.yaml (`PortalFunction`), as SAM names it locally; the deployed function's ARN or name and the alias `live`
(`Qualifier`) are accepted too, so a caller's configuration works unchanged. A result is 200 with the handler's return
value as JSON; a raised error is still 200, with `X-Amz-Function-Error: Unhandled` and the body Lambda's runtime
writes (`errorMessage`, `errorType`, `requestId`, `stackTrace`). Only `RequestResponse` invocations; no SigV4 check
(loopback only, as `sam local start-lambda`).
"""

from __future__ import annotations

import json
import sys
import threading
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from local.gateway import LambdaContext
from local.loopback import LoopbackServer

FUNCTION_LOGICAL_ID = "PortalFunction"
_PATH_PREFIX = "/2015-03-31/functions/"
_QUALIFIERS = ("", "$LATEST", "live")
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's limit for a synchronous invocation's request


class LambdaApiServer(LoopbackServer):
    def __init__(
        self,
        address: tuple[str, int],
        handler: Callable[[Any, Any], Any],
        lock: threading.Lock | None = None,
        names: tuple[str, ...] = (FUNCTION_LOGICAL_ID,),
    ) -> None:
        self.handler = handler
        self.names = names
        self.invocations = 0
        self._lock = lock or threading.Lock()  # shared with the gateway: one execution environment, one invocation
        super().__init__(address, _InvokeHandler)

    def knows(self, name: str) -> bool:
        """`PortalFunction`, or a function name or ARN ending in it (`...:function:<stack>-PortalFunction-x:live`)."""
        function = name.split(":function:")[-1].split(":")[0]
        return function in self.names or any(f"-{known}-" in f"{function}-" for known in self.names)

    def invoke(self, payload: Any) -> tuple[bool, Any]:
        """(raised, what the invoker reads): the handler's result, or the runtime's error document."""
        context = LambdaContext(function_name=FUNCTION_LOGICAL_ID)
        with self._lock:
            self.invocations += 1
            try:
                return False, self.handler(payload, context)
            except Exception as error:  # what the runtime reports to a synchronous invoker
                return True, {
                    "errorMessage": str(error),
                    "errorType": type(error).__name__,
                    "requestId": context.aws_request_id,
                    "stackTrace": traceback.format_list(traceback.extract_tb(error.__traceback__)),
                }


class _InvokeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LambdaApiServer

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        name, _, action = parts.path.removeprefix(_PATH_PREFIX).partition("/")
        qualifier = (parse_qs(parts.query).get("Qualifier") or [""])[0]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not parts.path.startswith(_PATH_PREFIX) or action != "invocations":
            return self._error(404, "UnknownOperationException", f"No such operation: POST {parts.path}")
        if not self.server.knows(unquote(name)) or qualifier not in _QUALIFIERS:
            return self._error(404, "ResourceNotFoundException", f"Function not found: {unquote(name)}")
        if self.headers.get("X-Amz-Invocation-Type", "RequestResponse") != "RequestResponse":
            return self._error(400, "InvalidParameterValueException", "Only RequestResponse invocations run locally")
        if len(body) > MAX_PAYLOAD_BYTES:
            return self._error(413, "RequestTooLargeException", "Request must be smaller than 6291456 bytes")
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return self._error(400, "InvalidRequestContentException", "Could not parse request body into json")
        raised, result = self.server.invoke(payload)
        headers = {"X-Amz-Executed-Version": "$LATEST"}
        if raised:
            headers["X-Amz-Function-Error"] = "Unhandled"
        self._send(200, json.dumps(result).encode(), headers)
        status = f"error {result['errorType']}" if raised else "ok"
        sys.stderr.write(f"lambda invoke {FUNCTION_LOGICAL_ID}: {status}\n")
        return None

    def _error(self, status: int, error_type: str, message: str) -> None:
        body = json.dumps({"Type": "User", "message": message}).encode()
        self._send(status, body, {"x-amzn-ErrorType": error_type})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {
            "Content-Type": "application/json",
            "x-amzn-RequestId": str(uuid.uuid4()),
            **headers,
        }.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # do_POST writes one line per invocation, without the payload
