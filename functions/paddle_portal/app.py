"""Lambda entry point: API Gateway (HTTP API, REST API), Function URL, or a direct invocation by another Lambda.

Thin on purpose: classify the event, parse it, authorize, call the service, shape the answer.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from paddle_portal.auth import authorize
from paddle_portal.deadline import Deadline
from paddle_portal.errors import (
    ConfigurationError,
    InternalError,
    InvalidRequestError,
    PortalError,
)
from paddle_portal.http_events import parse_http_event
from paddle_portal.inputs import SessionAsk, read_http_ask, validate
from paddle_portal.links import PortalSession
from paddle_portal.models import DirectInvocation
from paddle_portal.observability import logger, metrics, tracer
from paddle_portal.paddle import PaddleClient, new_pool
from paddle_portal.responses import error_response, json_response, redirect
from paddle_portal.secrets import ApiKeySource
from paddle_portal.service import create_portal_session
from paddle_portal.settings import Settings, get_settings


@lru_cache(maxsize=1)
def _pool() -> Any:
    return new_pool()  # one connection pool per execution environment: warm calls reuse the TLS connection


@lru_cache(maxsize=1)
def _collaborators() -> tuple[Settings, PaddleClient, ApiKeySource]:
    settings = get_settings()
    client = PaddleClient(_pool(), environment=settings.paddle_environment, base_url=settings.api_base_url)
    keys = ApiKeySource(settings.secret_id, settings.secret_max_age_seconds)
    return settings, client, keys


def _portal_session(ask: SessionAsk, context: LambdaContext) -> PortalSession:
    settings, client, keys = _collaborators()
    return create_portal_session(
        ask.customer_id,
        ask.subscription_ids,
        client=client,
        keys=keys,
        deadline=Deadline.for_invocation(context, settings.request_budget_seconds),
        allowed_hosts=settings.portal_allowed_hosts,
    )


def _handle_http(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The gateway's id; for an event too broken to carry one, the invocation's (meta.request_id is always set).
    request_id = event["requestContext"].get("requestId")
    if not isinstance(request_id, str) or not request_id:
        request_id = getattr(context, "aws_request_id", None)
    try:
        request = parse_http_event(event)
        logger.append_keys(route=f"{request.route.method} {request.route.template}")
        settings = _collaborators()[0]
        ask = read_http_ask(request, authorize(request, settings.customer_id_claim))
        session = _portal_session(ask, context)
        if request.route.creates_json:
            return json_response(201, session.as_json())
        if request.wants_json():
            return json_response(200, session.as_json())
        return redirect(session.link(ask.action, ask.subscription_id))
    except PortalError as error:
        _log_refusal(error)
        return error_response(error, request_id)
    except Exception:
        logger.exception("Unexpected error")
        return error_response(InternalError("unexpected"), request_id)


def _handle_direct(event: object, context: LambdaContext) -> dict[str, Any]:
    """Failures raise: the class name becomes `errorType` for the invoker (and Step Functions `Catch`)."""
    try:
        if not isinstance(event, dict):
            raise InvalidRequestError("The payload must be a JSON object with a customer_id.")
        payload = validate(DirectInvocation, event)
        if payload.correlation_id:
            logger.set_correlation_id(payload.correlation_id)
        ask = SessionAsk(payload.customer_id, tuple(payload.subscription_ids))
        return _portal_session(ask, context).as_json()
    except ConfigurationError as error:
        _log_refusal(error)
        raise ConfigurationError(
            "The service is not configured correctly; its logs name the cause.",
            request_id=error.request_id,
        ) from None
    except PortalError as error:
        _log_refusal(error)
        raise
    except Exception:
        logger.exception("Unexpected error")
        raise InternalError("An unexpected error occurred; the function's logs have the cause.") from None


def _log_refusal(error: PortalError) -> None:
    log = logger.error if error.status >= 500 else logger.info
    log(
        "Request refused",
        status=error.status,
        code=error.code,
        reason=str(error),
        error_type=type(error).__name__,
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Only an object-valued requestContext makes an API event; anything else is a (malformed) direct payload and
    # must raise, not answer an HTTP response to a direct invoker.
    if isinstance(event, dict) and isinstance(event.get("requestContext"), dict):
        if isinstance(event["requestContext"].get("requestId"), str):
            logger.set_correlation_id(event["requestContext"]["requestId"])
        return _handle_http(event, context)
    logger.set_correlation_id(getattr(context, "aws_request_id", None))
    return _handle_direct(event, context)
