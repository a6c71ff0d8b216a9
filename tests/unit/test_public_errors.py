"""`service.public_error`: Paddle's failure as the caller sees it, mapped in one place."""

from __future__ import annotations

import pytest

from paddle_portal.errors import (
    ConfigurationError,
    CustomerNotFoundError,
    InvalidRequestError,
    PortalError,
    RateLimitedError,
    UpstreamError,
    UpstreamTimeoutError,
)
from paddle_portal.operations import DEFAULT_RETRY_AFTER_SECONDS, public_error
from paddle_portal.paddle_errors import (
    FieldError,
    PaddleAuthenticationError,
    PaddleBadRequestError,
    PaddleConnectionError,
    PaddleError,
    PaddleNotFoundError,
    PaddleRateLimitError,
    PaddleResponseError,
    PaddleServerError,
    PaddleTimeoutError,
)
from tests.support import API_KEY, CUSTOMER_ID

SECRET_LOOKING_DETAIL = f"Authentication token {API_KEY} is invalid"


@pytest.mark.parametrize(
    ("paddle", "public", "status", "code"),
    [
        pytest.param(
            PaddleNotFoundError(404, "entity_not_found", "Entity ctm_x not found", request_id="p1"),
            CustomerNotFoundError,
            404,
            "not_found",
            id="404-not-found",
        ),
        pytest.param(
            PaddleBadRequestError(400, "bad_request", "Invalid request.", request_id="p1"),
            InvalidRequestError,
            400,
            "bad_request",
            id="400-keeps-paddles-code",
        ),
        pytest.param(
            PaddleRateLimitError(429, "too_many_requests", "Slow down", request_id="p1", retry_after=42),
            RateLimitedError,
            429,
            "too_many_requests",
            id="429",
        ),
        pytest.param(
            PaddleAuthenticationError(403, "invalid_token", SECRET_LOOKING_DETAIL, request_id="p1"),
            ConfigurationError,
            500,
            "configuration_error",
            id="403-invalid-token",
        ),
        pytest.param(
            PaddleAuthenticationError(403, "forbidden", "Missing permission", request_id="p1"),
            ConfigurationError,
            500,
            "configuration_error",
            id="403-forbidden",
        ),
        pytest.param(
            PaddleServerError(500, "internal_error", "Oops", request_id="p1"),
            UpstreamError,
            502,
            "bad_gateway",
            id="500",
        ),
        pytest.param(
            PaddleServerError(502, "http_502", "", request_id="p1"), UpstreamError, 502, "bad_gateway", id="502-html"
        ),
        pytest.param(
            PaddleConnectionError("ConnectionRefusedError"), UpstreamError, 502, "bad_gateway", id="connection"
        ),
        pytest.param(
            PaddleResponseError("Paddle's answer is not JSON"), UpstreamError, 502, "bad_gateway", id="unusable-success"
        ),
        pytest.param(PaddleTimeoutError("no time left"), UpstreamTimeoutError, 504, "gateway_timeout", id="timeout"),
    ],
)
def test_mapping(paddle: PaddleError, public: type[PortalError], status: int, code: str) -> None:
    error = public_error(paddle, CUSTOMER_ID)

    assert type(error) is public
    assert error.status == status
    assert error.code == code
    assert error.request_id == getattr(paddle, "request_id", None)
    assert API_KEY not in str(error)


def test_bad_request_passes_paddles_detail_and_field_errors() -> None:
    paddle = PaddleBadRequestError(
        400,
        "bad_request",
        "Invalid request.",
        errors=(FieldError("subscription_ids[0]", "subscription does not belong to customer"),),
        request_id="p1",
    )

    error = public_error(paddle, CUSTOMER_ID)

    assert error.detail == "Invalid request."
    assert error.errors == (FieldError("subscription_ids[0]", "subscription does not belong to customer"),)


def test_bad_request_without_detail_gets_a_fixed_one() -> None:
    error = public_error(PaddleBadRequestError(400, "http_400", ""), CUSTOMER_ID)

    assert error.detail == "Paddle rejected the request."


def test_not_found_names_the_customer_but_not_paddles_text() -> None:
    error = public_error(PaddleNotFoundError(404, "entity_not_found", "internal lookup text"), CUSTOMER_ID)

    assert CUSTOMER_ID in error.detail
    assert "internal lookup text" not in error.detail


def test_rejected_key_detail_is_ours_not_paddles() -> None:
    error = public_error(PaddleAuthenticationError(403, "invalid_token", SECRET_LOOKING_DETAIL), CUSTOMER_ID)

    assert API_KEY not in error.detail
    assert "Authentication token" not in error.detail


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
