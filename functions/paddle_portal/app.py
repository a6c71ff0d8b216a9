"""Lambda entry point: API Gateway (HTTP API, REST API), Function URL, or a direct invocation by another Lambda.

Thin on purpose: classify the event, parse it, authorize, call the service, shape the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from paddle_portal.auth import authorize
from paddle_portal.deadline import Deadline
from paddle_portal.errors import ConfigurationError, InternalError, InvalidRequestError, PortalError
from paddle_portal.http_events import HttpRequest, Kind, parse_http_event
from paddle_portal.inputs import (
    SessionAsk,
    path_customer_id,
    portal_ask,
    read_http_ask,
    read_link_request,
    require_subscription_for,
    validate,
)
from paddle_portal.links import PortalSession
from paddle_portal.models import DirectInvocation, DirectMintLink, MintLinkBody
from paddle_portal.observability import log_unexpected, logger, metrics, tracer
from paddle_portal.paddle import PaddleClient, new_pool
from paddle_portal.responses import error_page, error_response, json_response, redirect
from paddle_portal.secrets import ApiKeySource, secret_reader
from paddle_portal.service import create_portal_session
from paddle_portal.settings import Settings, get_settings
from paddle_portal.signed_links import SigningKeySource, claims_for, link_url, verify


@lru_cache(maxsize=1)
def _pool() -> Any:
    return new_pool()  # one connection pool per execution environment: warm calls reuse the TLS connection


@dataclass(frozen=True)
class Collaborators:
    settings: Settings
    client: PaddleClient
    api_keys: ApiKeySource
    signing_keys: SigningKeySource


def _collaborators() -> Collaborators:
    return _collaborators_for(get_settings())


@lru_cache(maxsize=1)
def _collaborators_for(settings: Settings) -> Collaborators:
    """Built once per execution environment (per configuration: settings are frozen and hashable)."""
    reader = secret_reader(settings.secrets_extension_port)  # one cache for both secrets
    return Collaborators(
        settings=settings,
        client=PaddleClient(_pool(), environment=settings.paddle_environment, base_url=settings.api_base_url),
        api_keys=ApiKeySource(settings.secret_id, settings.secret_max_age_seconds, reader=reader),
        signing_keys=SigningKeySource(settings.link_signing_secret_id, settings.secret_max_age_seconds, reader),
    )


def _portal_session(ask: SessionAsk, context: LambdaContext) -> PortalSession:
    found = _collaborators()
    return create_portal_session(
        ask.customer_id,
        ask.subscription_ids,
        client=found.client,
        keys=found.api_keys,
        deadline=Deadline.for_invocation(context, found.settings.request_budget_seconds),
        allowed_hosts=found.settings.portal_allowed_hosts,
    )


def _signed_link(base_url: str | None, customer_id: str, spec: MintLinkBody, request_id: str | None) -> dict[str, Any]:
    found = _collaborators()
    base_url = found.settings.link_base_url or base_url
    if not base_url:
        raise ConfigurationError("Signed portal links need PORTAL_LINK_BASE_URL (no public URL in this event)")
    claims = claims_for(customer_id, spec.action, spec.subscription_id, spec.expires_in)
    url = link_url(base_url, claims, found.signing_keys.get())
    logger.info("Signed portal link minted", customer_id=customer_id, action=spec.action, expires_at=claims.expires_at)
    expires_at = datetime.fromtimestamp(claims.expires_at, UTC).isoformat().replace("+00:00", "Z")
    return {"data": {"url": url, "expires_at": expires_at}, "meta": {"request_id": request_id}}


def _handle_http(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The gateway's id; for an event too broken to carry one, the invocation's (meta.request_id is always set).
    request_id = event["requestContext"].get("requestId")
    if not isinstance(request_id, str) or not request_id:
        request_id = getattr(context, "aws_request_id", None)
    request: HttpRequest | None = None
    try:
        request = parse_http_event(event)
        logger.append_keys(route=f"{request.route.method} {request.route.template}")
        return _answer(request, context)
    except PortalError as error:
        _log_refusal(error)
        if request is not None and request.route.kind is Kind.FOLLOW_LINK and request.wants_html():
            return error_page(error, request_id)
        return error_response(error, request_id)
    except Exception as unexpected:
        log_unexpected(unexpected)
        return error_response(InternalError("unexpected"), request_id)


def _answer(request: HttpRequest, context: LambdaContext) -> dict[str, Any]:
    settings = _collaborators().settings
    bound_customer_id = authorize(request, settings.customer_id_claim)
    kind = request.route.kind
    if kind is Kind.MINT_LINK:
        customer_id = path_customer_id(request)
        return json_response(
            201,
            _signed_link(
                request.public_url,
                customer_id,
                read_link_request(request),
                request.request_id or context.aws_request_id,
            ),
        )
    if kind is Kind.FOLLOW_LINK:
        # The link is the credential: verified before Paddle is called, and it alone says what to open.
        claims = verify(request.query, _collaborators().signing_keys.get())
        ask = portal_ask(claims.customer_id, claims.action, claims.subscription_id)
    else:
        ask = read_http_ask(request, bound_customer_id)
    session = _portal_session(ask, context)
    if kind is Kind.SESSION:
        return json_response(201, session.as_json())
    if request.wants_json():
        return json_response(200, session.as_json())
    return redirect(session.link(ask.action, ask.subscription_id))


def _handle_direct(event: object, context: LambdaContext) -> dict[str, Any]:
    """Failures raise: the class name becomes `errorType` for the invoker (and Step Functions `Catch`)."""
    try:
        if not isinstance(event, dict):
            raise InvalidRequestError("The payload must be a JSON object with a customer_id.")
        if event.get("operation") == "create_portal_link":
            mint = validate(DirectMintLink, event)
            _set_correlation_id(mint.correlation_id)
            require_subscription_for(mint.action, mint.subscription_id)
            # meta.request_id is what the logs correlate on: the caller's correlation id, else the invocation's id.
            request_id = mint.correlation_id or getattr(context, "aws_request_id", None)
            return _signed_link(None, mint.customer_id, mint, request_id)
        payload = validate(DirectInvocation, event)
        _set_correlation_id(payload.correlation_id)
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
    except Exception as unexpected:
        log_unexpected(unexpected)
        raise InternalError("An unexpected error occurred; the function's logs have the cause.") from None


def _set_correlation_id(correlation_id: str | None) -> None:
    if correlation_id:
        logger.set_correlation_id(correlation_id)


def _log_refusal(error: PortalError) -> None:
    log = logger.error if error.status >= 500 else logger.info
    log(
        "Request refused",
        status=error.status,
        code=error.code,
        reason=str(error),
        error_type=type(error).__name__,
    )


@logger.inject_lambda_context(clear_state=True, log_event=False)  # events carry credentials: never log them
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
