"""Lambda entry point: API Gateway (HTTP API, REST API), Function URL, or a direct invocation by another Lambda.

Only adapts. HTTP: event → parse → authorize → the route's operation → render; every failure is answered in the
error envelope, never raised. Direct: payload → validate → operation → return, or raise the error (its class name
is the invoker's `errorType`). The operations themselves live in operations.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from paddle_portal import operations, snapstart  # noqa: F401  # snapstart registers SnapStart's hooks (runtime permitting)
from paddle_portal.auth import VerifiedEmail, authorize
from paddle_portal.busy_page import busy_page, tries_so_far
from paddle_portal.deadline import Deadline
from paddle_portal.errors import InternalError, InvalidRequestError, PortalError, RateLimitedError
from paddle_portal.http_events import HttpRequest, Operation, parse_http_event
from paddle_portal.inputs import (
    PortalRequest,
    read_link_request,
    read_portal_choice,
    require_subscription_for,
    validate,
)
from paddle_portal.models import DirectInvocation, DirectMintLink, MintLinkBody
from paddle_portal.observability import log_refusal, log_unexpected, logger, metrics, tracer
from paddle_portal.operations import Dependencies
from paddle_portal.responses import error_page, error_response, json_response, redirect

Answer = dict[str, Any]


def _request_id(event: object, context: LambdaContext) -> str | None:
    """The gateway's request id; for a direct invocation or an event too broken to carry one, the invocation's."""
    request_context = event.get("requestContext") if isinstance(event, dict) else None
    request_id = request_context.get("requestId") if isinstance(request_context, dict) else None
    return request_id if isinstance(request_id, str) and request_id else getattr(context, "aws_request_id", None)


def _answer(request: HttpRequest, deps: Dependencies, context: LambdaContext, request_id: str | None) -> Answer:
    settings = deps.settings
    bound = authorize(request, settings.customer_id_claim, settings.customer_lookup)
    deadline = Deadline.for_invocation(context, settings.request_budget_seconds)  # one budget for every Paddle call
    if bound is None:  # the signed-link route: the link is the credential and names the customer
        return _portal(request, operations.follow_signed_link(deps, request.query), deps, deadline)
    # The whole request is valid before Paddle is asked who a verified email's customer is.
    mint = request.route.operation is Operation.MINT_LINK
    asked = read_link_request(request) if mint else read_portal_choice(request)
    customer_id = operations.customer_for_email(deps, bound, deadline) if isinstance(bound, VerifiedEmail) else bound
    if isinstance(asked, MintLinkBody):
        return json_response(201, operations.mint_signed_link(deps, customer_id, asked, request.public_url, request_id))
    return _portal(request, replace(asked, customer_id=customer_id), deps, deadline)


def _portal(request: HttpRequest, wanted: PortalRequest, deps: Dependencies, deadline: Deadline) -> Answer:
    session = operations.open_portal_session(deps, wanted, deadline)
    if request.route.operation is Operation.SESSION:
        return json_response(201, session.as_json())
    if request.wants_json():
        return json_response(200, session.as_json())
    return redirect(session.link(wanted.action, wanted.subscription_id))


def _handle_http(event: dict[str, Any], context: LambdaContext) -> Answer:
    request_id = _request_id(event, context)
    request: HttpRequest | None = None
    try:
        request = parse_http_event(event)
        logger.append_keys(route=f"{request.route.method} {request.route.template}")
        return _answer(request, operations.dependencies(), context, request_id)
    except PortalError as error:
        log_refusal(error)
        if request is not None and request.route.operation is Operation.FOLLOW_LINK and request.wants_html():
            if isinstance(error, RateLimitedError):  # busy, not broken: the link is fine, the page tries again
                return busy_page(error, request_id, tries_so_far(event))
            return error_page(error, request_id)
        return error_response(error, request_id)
    except Exception as unexpected:
        log_unexpected(unexpected)
        return error_response(InternalError("unexpected"), request_id)


def _direct(event: object, context: LambdaContext) -> Answer:
    if not isinstance(event, dict):
        raise InvalidRequestError("The payload must be a JSON object with a customer_id.")
    if event.get("operation") == "create_portal_link":
        mint = validate(DirectMintLink, event)  # strict models: unknown fields are refused
        _set_correlation_id(mint.correlation_id)
        require_subscription_for(mint.action, mint.subscription_id)
        request_id = mint.correlation_id or _request_id(event, context)  # what the logs correlate on
        return operations.mint_signed_link(operations.dependencies(), mint.customer_id, mint, None, request_id)
    payload = validate(DirectInvocation, event)
    _set_correlation_id(payload.correlation_id)
    deps = operations.dependencies()
    deadline = Deadline.for_invocation(context, deps.settings.request_budget_seconds)
    wanted = PortalRequest(payload.customer_id, tuple(payload.subscription_ids))
    return operations.open_portal_session(deps, wanted, deadline).as_json()


def _handle_direct(event: object, context: LambdaContext) -> Answer:
    try:
        return _direct(event, context)
    except PortalError as error:
        log_refusal(error)
        raise error.for_caller() from None
    except Exception as unexpected:
        log_unexpected(unexpected)
        raise InternalError("unexpected").for_caller() from None


def _set_correlation_id(correlation_id: str | None) -> None:
    if correlation_id:
        logger.set_correlation_id(correlation_id)


@logger.inject_lambda_context(clear_state=True, log_event=False)  # events carry credentials: never log them
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Answer:
    logger.set_correlation_id(_request_id(event, context))
    # Only an object-valued requestContext makes an API event; anything else is a (malformed) direct payload and
    # must raise, not answer an HTTP response to a direct invoker.
    if isinstance(event, dict) and isinstance(event.get("requestContext"), dict):
        return _handle_http(event, context)
    return _handle_direct(event, context)
