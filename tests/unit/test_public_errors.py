"""`service.public_error`: Paddle's failure as the caller sees it, mapped in one place."""

from __future__ import annotations

import pytest

from paddle_portal.errors import (
    ConfigurationError,
    CustomerNotFoundError,
    FieldError,
    InvalidRequestError,
    PortalError,
    RateLimitedError,
    UpstreamError,
    UpstreamTimeoutError,
)
from paddle_portal.paddle.errors import (
    PaddleAuthenticationError,
    PaddleBadRequestError,
    PaddleConnectionError,
    PaddleError,
    PaddleFieldError,
    PaddleNotFoundError,
    PaddleRateLimitError,
    PaddleResponseError,
    PaddleServerError,
    PaddleTimeoutError,
)
from paddle_portal.paddle_failures import DEFAULT_RETRY_AFTER_SECONDS, public_error
from tests.support import API_KEY, CUSTOMER_ID

SECRET_LOOKING_DETAIL = f"Authentication token {API_KEY} is invalid"

# Paddle's failures, as the client raises them
NOT_FOUND = PaddleNotFoundError(404, "entity_not_found", "internal lookup text", request_id="p1")
BAD_REQUEST = PaddleBadRequestError(400, "bad_request", "Invalid request.", request_id="p1")
BAD_REQUEST_WITHOUT_DETAIL = PaddleBadRequestError(400, "http_400", "")
RATE_LIMITED = PaddleRateLimitError(429, "too_many_requests", "Slow down", request_id="p1", retry_after=42)
KEY_REJECTED = PaddleAuthenticationError(403, "invalid_token", SECRET_LOOKING_DETAIL, request_id="p1")
KEY_FORBIDDEN = PaddleAuthenticationError(403, "forbidden", "Missing permission", request_id="p1")
SERVER_ERROR = PaddleServerError(500, "internal_error", "Oops", request_id="p1")
HTML_502 = PaddleServerError(502, "http_502", "", request_id="p1")
CONNECTION = PaddleConnectionError("ConnectionRefusedError")
UNUSABLE_SUCCESS = PaddleResponseError("Paddle's answer is not JSON")
TIMEOUT = PaddleTimeoutError("no time left")

# id: (Paddle's failure, the public error it becomes, its status and code)
MAPPING: dict[str, tuple[PaddleError, type[PortalError], int, str]] = {
    "404-not-found": (NOT_FOUND, CustomerNotFoundError, 404, "not_found"),
    "400-keeps-paddles-code": (BAD_REQUEST, InvalidRequestError, 400, "bad_request"),
    "429": (RATE_LIMITED, RateLimitedError, 429, "too_many_requests"),
    "403-invalid-token": (KEY_REJECTED, ConfigurationError, 500, "configuration_error"),
    "403-forbidden": (KEY_FORBIDDEN, ConfigurationError, 500, "configuration_error"),
    "500": (SERVER_ERROR, UpstreamError, 502, "bad_gateway"),
    "502-html": (HTML_502, UpstreamError, 502, "bad_gateway"),
    "connection": (CONNECTION, UpstreamError, 502, "bad_gateway"),
    "unusable-success": (UNUSABLE_SUCCESS, UpstreamError, 502, "bad_gateway"),
    "timeout": (TIMEOUT, UpstreamTimeoutError, 504, "gateway_timeout"),
}


@pytest.mark.parametrize(("paddle", "public", "status", "code"), list(MAPPING.values()), ids=list(MAPPING))
def test_mapping(paddle: PaddleError, public: type[PortalError], status: int, code: str) -> None:
    error = public_error(paddle, CUSTOMER_ID)

    assert type(error) is public
    assert error.status == status
    assert error.code == code
    assert error.request_id == getattr(paddle, "request_id", None)
    assert API_KEY not in str(error)


def test_bad_request_passes_paddles_field_errors() -> None:
    paddle = PaddleBadRequestError(
        400,
        "bad_request",
        "Invalid request.",
        errors=(PaddleFieldError("subscription_ids[0]", "subscription does not belong to customer"),),
        request_id="p1",
    )

    error = public_error(paddle, CUSTOMER_ID)

    assert error.errors == (FieldError("subscription_ids[0]", "subscription does not belong to customer"),)


@pytest.mark.parametrize(
    ("paddle", "detail", "hidden"),
    [
        pytest.param(BAD_REQUEST, "Invalid request.", (), id="bad-request-passes-paddles-detail"),
        pytest.param(BAD_REQUEST_WITHOUT_DETAIL, "Paddle rejected the request.", (), id="bad-request-without-detail"),
        pytest.param(NOT_FOUND, CUSTOMER_ID, ("internal lookup text",), id="not-found-names-customer"),
        pytest.param(KEY_REJECTED, None, (API_KEY, "Authentication token"), id="rejected-key-detail-is-ours"),
    ],
)
def test_public_detail(paddle: PaddleError, detail: str | None, hidden: tuple[str, ...]) -> None:
    # Paddle's detail is passed on only for a request Paddle rejected; otherwise the detail is ours
    error = public_error(paddle, CUSTOMER_ID)

    if detail is not None:
        assert detail in error.detail
    for text in hidden:
        assert text not in error.detail


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        pytest.param(42, 42, id="paddles-value"),
        pytest.param(0, 0, id="zero-kept"),
        pytest.param(None, DEFAULT_RETRY_AFTER_SECONDS, id="default-when-absent"),
    ],
)
def test_rate_limit_always_has_retry_after(retry_after: int | None, expected: int) -> None:
    paddle = PaddleRateLimitError(429, "too_many_requests", "", retry_after=retry_after)

    assert public_error(paddle, CUSTOMER_ID).retry_after == expected
