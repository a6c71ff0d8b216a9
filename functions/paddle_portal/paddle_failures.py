"""Where Paddle's failures become the caller's: the one mapping from the client's errors (`paddle/errors.py`) to the
public error tree (`errors`), the log line and metric of each failure, and the guard that lets nothing else out of
a use case.

Texts are fixed; only Paddle's code, field errors and request id pass through (they describe the caller's data, not
ours), screened as they were read (`paddle.errors.error_from_response`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

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
from paddle_portal.observability import log_unexpected, logger, record_paddle_error
from paddle_portal.paddle.errors import (
    PaddleAPIError,
    PaddleAuthenticationError,
    PaddleBadRequestError,
    PaddleError,
    PaddleNotFoundError,
    PaddleRateLimitError,
    PaddleResponseError,
    PaddleTimeoutError,
)

# Sent as Retry-After when Paddle's 429 named none: its limits are per minute.
DEFAULT_RETRY_AFTER_SECONDS = 10

P = ParamSpec("P")
R = TypeVar("R")


def public_error(exc: PaddleError, customer_id: str | None) -> PortalError:
    """Paddle's failure as the caller sees it."""
    request_id = exc.request_id
    if isinstance(exc, PaddleNotFoundError):
        what = f"no customer {customer_id}, or not the subscriptions asked for" if customer_id else "no such customer"
        return CustomerNotFoundError(f"Paddle has {what}.", request_id=request_id)
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
    if isinstance(exc, PaddleResponseError):  # an answer that failed our checks; its text is one of ours, fixed
        return UpstreamError(str(exc), request_id=request_id)
    return UpstreamError("Paddle could not be reached or answered with an error.", request_id=request_id)


def reported(exc: PaddleError, error: PortalError, **context: Any) -> PortalError:
    """Log and count Paddle's failure (ids and codes only), and hand back the public `error` to raise."""
    record_paddle_error(exc.code if isinstance(exc, PaddleAPIError) else error.code)
    logger.warning(
        "Paddle call failed",
        **context,
        paddle_error=type(exc).__name__,
        paddle_status=getattr(exc, "status", None),
        paddle_code=getattr(exc, "code", None),
        paddle_request_id=exc.request_id,
    )
    return error


def only_portal_errors(function: Callable[P, R]) -> Callable[P, R]:
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
