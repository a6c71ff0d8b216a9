"""Run the real handler in a fresh interpreter that looks like Lambda to Powertools and the X-Ray SDK (which decide at
import whether they are on), and record what leaves it: every X-Ray document the SDK would send to the daemon, every
log line, every answer; plus a "canary", a method traced with Powertools' defaults returning a portal link, to prove
that a captured response would be seen. Paddle's stand-in is at PADDLE_API_BASE_URL; Secrets Manager is moto.

Usage: python -m tests.security.lambda_sandbox <plan.json> <result.json>, the plan being
{"env": {...}, "invocations": [{"name": ..., "event": {...}, "fault": false}, ...]}; `fault: true` makes the Paddle
call fail with an unexpected error whose message holds the key and a portal link.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from typing import Any

from tests.events import SIGNING_SECRET, SIGNING_SECRET_ID
from tests.support import API_KEY, PORTAL_TOKEN, SECRET_ID, LambdaContext

TRACE_HEADER = "Root=1-66fd2200-665178314c674e7049414d45;Parent=53995c3f42cd8ad8;Sampled=1"
CANARY_LINK = f"https://customer-portal.paddle.com/cpl_canary?token={PORTAL_TOKEN}"
# The message of the injected bug (kept out of the raising line, whose source text a stack trace may show).
BUG_MESSAGE = f"bug holding {API_KEY} and https://customer-portal.paddle.com/cpl_x?token={PORTAL_TOKEN}"


class CollectingEmitter:
    """Stands in for the UDP emitter to the X-Ray daemon: keeps the JSON the SDK would have sent."""

    ip, port = "127.0.0.1", 2000

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_entity(self, entity: Any) -> None:
        self.sent.append(entity.serialize())

    def set_daemon_address(self, address: str | None) -> None:  # the SDK calls this on configure
        pass


def _prepare_environment(extra: dict[str, str]) -> None:
    os.environ.pop("POWERTOOLS_TRACE_DISABLED", None)
    os.environ.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # pragma: allowlist secret - moto's conventional fake
        AWS_SESSION_TOKEN="testing",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_LAMBDA_FUNCTION_NAME="paddle-portal",
        LAMBDA_TASK_ROOT="/var/task",  # Powertools and the X-Ray SDK now behave as in Lambda
        _X_AMZN_TRACE_ID=TRACE_HEADER,
        AWS_XRAY_CONTEXT_MISSING="LOG_ERROR",
        POWERTOOLS_SERVICE_NAME="paddle-portal",
        POWERTOOLS_METRICS_NAMESPACE="PaddlePortal",
        PADDLE_API_KEY_SECRET_ID=SECRET_ID,
        PORTAL_LINK_SIGNING_SECRET_ID=SIGNING_SECRET_ID,
    )
    os.environ.update(extra)


@contextlib.contextmanager
def _unexpected_paddle_failure(active: bool) -> Iterator[None]:
    """A bug deep in the Paddle call whose message happens to hold the key and a portal link."""
    from paddle_portal.paddle.client import PaddleClient

    real = PaddleClient.create_portal_session

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError(BUG_MESSAGE)

    if active:
        PaddleClient.create_portal_session = broken  # type: ignore[method-assign]
    try:
        yield
    finally:
        PaddleClient.create_portal_session = real  # type: ignore[method-assign]


@contextlib.contextmanager
def _captured_output() -> Iterator[io.StringIO]:
    """Everything written while the block runs: the function's Logger, any other logger, print()."""
    from paddle_portal.observability import logger

    buffer = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(buffer)  # type: ignore[attr-defined]
    root_handler = logging.StreamHandler(buffer)
    logging.getLogger().addHandler(root_handler)
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            yield buffer
    finally:
        logging.getLogger().removeHandler(root_handler)
        handler.setStream(previous)  # type: ignore[attr-defined]


def _invoke(handler: Any, event: Any) -> dict[str, Any]:
    try:
        return {"returned": handler(event, LambdaContext())}
    except Exception as error:  # what a direct invoker gets: the class name and the message
        return {"raised": type(error).__name__, "message": str(error), "repr": repr(error)}


def main(plan_path: str, result_path: str) -> None:
    with open(plan_path) as file:
        plan = json.load(file)
    _prepare_environment(plan.get("env", {}))

    from moto import mock_aws

    with mock_aws():
        import boto3

        secrets = boto3.client("secretsmanager")
        secrets.create_secret(Name=SECRET_ID, SecretString=json.dumps({"api_key": API_KEY}))
        secrets.create_secret(Name=SIGNING_SECRET_ID, SecretString=SIGNING_SECRET)

        from aws_xray_sdk.core import xray_recorder

        from paddle_portal.app import lambda_handler
        from paddle_portal.observability import tracer

        emitter = CollectingEmitter()
        xray_recorder.configure(emitter=emitter)

        results = []
        for invocation in plan["invocations"]:
            emitter.sent.clear()
            with _unexpected_paddle_failure(invocation.get("fault", False)), _captured_output() as output:
                answer = _invoke(lambda_handler, invocation["event"])
            results.append(
                {"name": invocation["name"], **answer, "logs": output.getvalue(), "segments": list(emitter.sent)}
            )

        @tracer.capture_method  # Powertools' defaults: the response becomes subsegment metadata
        def canary() -> dict[str, str]:
            return {"overview": CANARY_LINK}

        emitter.sent.clear()
        canary()
        canary_segments = list(emitter.sent)

    with open(result_path, "w") as file:
        json.dump({"tracer_disabled": tracer.disabled, "invocations": results, "canary": canary_segments}, file)


if __name__ == "__main__":
    try:
        main(sys.argv[1], sys.argv[2])
    except Exception:
        traceback.print_exc()
        sys.exit(2)
