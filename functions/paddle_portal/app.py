"""Lambda entry point: API Gateway (HTTP API, REST API), Function URL, or a direct invocation by another Lambda.

Decides the request id once and hands the event to its adapter: an object-valued `requestContext` makes an API
event (http_api/routes.py: always answers, in the error envelope when it refuses); anything else is a direct payload
(direct.py: returns, or raises the error whose class name is the invoker's `errorType`), never answered as HTTP.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from paddle_portal import direct, snapstart  # noqa: F401  # snapstart registers SnapStart's hooks
from paddle_portal.http_api import routes
from paddle_portal.observability import logger, metrics, tracer


def _request_id(event: object, context: LambdaContext) -> str | None:
    """The gateway's request id; for a direct invocation or an event too broken to carry one, the invocation's."""
    request_context = event.get("requestContext") if isinstance(event, dict) else None
    request_id = request_context.get("requestId") if isinstance(request_context, dict) else None
    return request_id if isinstance(request_id, str) and request_id else getattr(context, "aws_request_id", None)


@logger.inject_lambda_context(clear_state=True, log_event=False)  # events carry credentials: never log them
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request_id = _request_id(event, context)
    logger.set_correlation_id(request_id)
    if isinstance(event, dict) and isinstance(event.get("requestContext"), dict):
        return routes.handle(event, context, request_id)
    return direct.handle(event, context, request_id)
