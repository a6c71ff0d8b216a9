"""The one thing this function does: create a portal session for a customer the caller may act for.

Takes its collaborators as arguments (Paddle client, API key source); turns Paddle's errors into the public
error tree in one place (`public_error`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar

from paddle_portal.deadline import Deadline
from paddle_portal.errors import (
    ConfigurationError,
    CustomerNotFoundError,
    FieldError,
    InternalError,
    InvalidRequestError,
    PortalError,
    RateLimitedError,
    UpstreamError,
    UpstreamTimeoutError,
)
from paddle_portal.links import PortalSession
from paddle_portal.observability import (
    log_unexpected,
    logger,
    record_paddle_error,
    record_session_created,
    tracer,
)
from paddle_portal.paddle import MIN_ATTEMPT_SECONDS, PaddleClient
from paddle_portal.paddle_errors import (
    PaddleAPIError,
    PaddleAuthenticationError,
    PaddleBadRequestError,
    PaddleError,
    PaddleNotFoundError,
    PaddleRateLimitError,
    PaddleTimeoutError,
)
from paddle_portal.secrets import ApiKeySource

# Sent as Retry-After when Paddle's 429 named none: its limits are per minute.
DEFAULT_RETRY_AFTER_SECONDS = 10


P = ParamSpec("P")
R = TypeVar("R")


def _only_portal_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Anything but a `PortalError` becomes `InternalError` here, inside the tracer: X-Ray records an escaping
    exception's message, and a bug's message can hold anything (the key, a link)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except PortalError:
            raise
        except Exception as unexpected:
            log_unexpected(unexpected)
            raise InternalError("An unexpected error occurred; the function's logs have the cause.") from None

    return wrapper


@tracer.capture_method(capture_response=False)
@_only_portal_errors
def create_portal_session(
    customer_id: str,
    subscription_ids: Sequence[str],
    *,
    client: PaddleClient,
    keys: ApiKeySource,
    deadline: Deadline,
    allowed_hosts: tuple[str, ...],
) -> PortalSession:
    """Ids must already be validated. Raises `PortalError`s only."""
    api_key = keys.get()
    try:
        try:
            result = client.create_portal_session(api_key, customer_id, subscription_ids, deadline)
        except PaddleAuthenticationError as rejected:
            # Key rotation: re-read the secret once, bypassing the cache, and retry once with a new key
            # (not when no retry could start in time any more: the key is still what Paddle rejected).
            fresh = keys.refresh() if deadline.remaining() >= MIN_ATTEMPT_SECONDS else None
            if fresh is None or fresh == api_key:
                raise
            logger.info(
                "Paddle rejected the cached API key; retrying with the re-read secret",
                code=rejected.code,
            )
            result = client.create_portal_session(fresh, customer_id, subscription_ids, deadline)
    except PaddleError as exc:
        error = public_error(exc, customer_id)
        record_paddle_error(exc.code if isinstance(exc, PaddleAPIError) else error.code)
        logger.warning(
            "Paddle call failed",
            customer_id=customer_id,
            paddle_error=type(exc).__name__,
            paddle_status=getattr(exc, "status", None),
            paddle_code=getattr(exc, "code", None),
            paddle_request_id=getattr(exc, "request_id", None),
        )
        raise error from None
    session = PortalSession.from_paddle(result.data, result.request_id, allowed_hosts, customer_id)
    record_session_created(result.latency_ms)
    logger.info(
        "Portal session created",
        customer_id=customer_id,
        subscription_count=len(subscription_ids),
        session_id=session.session_id,
        paddle_request_id=result.request_id,
        attempts=result.attempts,
        latency_ms=round(result.latency_ms, 1),
    )
    return session


def public_error(exc: PaddleError, customer_id: str) -> PortalError:
    """Paddle's failure as the caller sees it. Texts are fixed; only Paddle's code, field errors and request id
    pass through (they describe the caller's data, not ours), screened as they were read (paddle_errors.py)."""
    request_id = getattr(exc, "request_id", None)
    if isinstance(exc, PaddleNotFoundError):
        return CustomerNotFoundError(
            f"Paddle has no customer {customer_id}, or not the subscriptions asked for.",
            request_id=request_id,
        )
    if isinstance(exc, PaddleBadRequestError):
        return InvalidRequestError(
            exc.detail or "Paddle rejected the request.",
            code=exc.code,
            errors=tuple(FieldError(e.field, e.message) for e in exc.errors),
            request_id=request_id,
        )
    if isinstance(exc, PaddleRateLimitError):
        return RateLimitedError(
            "Paddle's rate limit was reached; try again later.",
            request_id=request_id,
            retry_after=exc.retry_after if exc.retry_after is not None else DEFAULT_RETRY_AFTER_SECONDS,
        )
    if isinstance(exc, PaddleAuthenticationError):
        return ConfigurationError("Paddle rejected the configured API key.", request_id=request_id)
    if isinstance(exc, PaddleTimeoutError):
        return UpstreamTimeoutError("Paddle did not answer in time.")
    return UpstreamError("Paddle could not be reached or answered with an error.", request_id=request_id)
