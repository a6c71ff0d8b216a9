"""Every HTTP answer: JSON, redirect, or Paddle's error envelope; never cacheable, 5xx details never the cause."""

from __future__ import annotations

import json

import pytest

from paddle_portal.errors import (
    AuthenticationMissingError,
    ConfigurationError,
    CustomerNotFoundError,
    FieldError,
    ForbiddenError,
    InternalError,
    InvalidRequestError,
    PortalError,
    RateLimitedError,
    RequestTooLargeError,
    RouteNotFoundError,
    UpstreamError,
    UpstreamTimeoutError,
)
from paddle_portal.http_api.responses import error_body, error_response, json_response, redirect

LINK = "https://customer-portal.paddle.com/cpl_01j7zbyqs3vah3aafp4jf62qaw?token=pga_FAKE"


def test_json_response() -> None:
    response = json_response(201, {"data": {"id": "cpls_1"}, "meta": {"request_id": "r"}})

    assert response == {
        "statusCode": 201,
        "headers": {
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
        "body": '{"data":{"id":"cpls_1"},"meta":{"request_id":"r"}}',
        "isBase64Encoded": False,
    }


def test_redirect() -> None:
    response = redirect(LINK)

    assert response["statusCode"] == 302
    assert response["headers"]["Location"] == LINK
    assert response["headers"]["Cache-Control"] == "no-store"
    assert response["headers"]["Referrer-Policy"] == "no-referrer"
    assert response["body"] == ""
    assert response["isBase64Encoded"] is False


@pytest.mark.parametrize(
    ("error", "status", "type_", "code"),
    [
        pytest.param(InvalidRequestError("d"), 400, "request_error", "invalid_field", id="invalid-field"),
        pytest.param(
            InvalidRequestError("d", code="invalid_json"), 400, "request_error", "invalid_json", id="invalid-json"
        ),
        pytest.param(RequestTooLargeError("d"), 413, "request_error", "request_too_large", id="too-large"),
        pytest.param(
            AuthenticationMissingError("d"), 401, "request_error", "authentication_missing", id="authentication-missing"
        ),
        pytest.param(ForbiddenError("d"), 403, "request_error", "forbidden", id="forbidden"),
        pytest.param(RouteNotFoundError("d"), 404, "request_error", "not_found", id="route-not-found"),
        pytest.param(CustomerNotFoundError("d"), 404, "request_error", "not_found", id="customer-not-found"),
        pytest.param(
            RateLimitedError("d", retry_after=7), 429, "request_error", "too_many_requests", id="rate-limited"
        ),
        pytest.param(UpstreamError("d"), 502, "api_error", "bad_gateway", id="bad-gateway"),
        pytest.param(UpstreamTimeoutError("d"), 504, "api_error", "gateway_timeout", id="gateway-timeout"),
        pytest.param(ConfigurationError("d"), 500, "api_error", "configuration_error", id="configuration"),
        pytest.param(InternalError("d"), 500, "api_error", "internal_error", id="internal"),
    ],
)
def test_error_status_type_and_code(error: PortalError, status: int, type_: str, code: str) -> None:
    response = error_response(error, "gw-request-1")
    body = json.loads(response["body"])

    assert response["statusCode"] == status
    assert response["headers"]["Cache-Control"] == "no-store"
    assert response["headers"]["Content-Type"] == "application/json"
    assert body["error"]["type"] == type_
    assert body["error"]["code"] == code
    assert body["meta"] == {"request_id": "gw-request-1"}
    assert "errors" not in body["error"]


def test_field_errors_are_listed() -> None:
    error = InvalidRequestError(
        "Invalid request.",
        errors=(FieldError("subscription_ids[0]", "bad"), FieldError("extra", "is not a known field")),
    )

    assert error_body(error, "r")["error"]["errors"] == [
        {"field": "subscription_ids[0]", "message": "bad"},
        {"field": "extra", "message": "is not a known field"},
    ]


def test_paddles_request_id_wins_over_the_gateways() -> None:
    assert error_body(CustomerNotFoundError("d", request_id="paddle-req"), "gw-req")["meta"] == {
        "request_id": "paddle-req"
    }


@pytest.mark.parametrize(
    ("error", "retry_after"),
    [
        pytest.param(RateLimitedError("d", retry_after=30), "30", id="rate-limited"),
        pytest.param(RateLimitedError("d", retry_after=0), "0", id="rate-limited-zero"),
        pytest.param(UpstreamError("d"), None, id="bad-gateway-has-none"),
        pytest.param(InvalidRequestError("d"), None, id="bad-request-has-none"),
    ],
)
def test_retry_after_header(error: PortalError, retry_after: str | None) -> None:
    assert error_response(error, "r")["headers"].get("Retry-After") == retry_after


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(
            ConfigurationError("Could not read secret arn:aws:secretsmanager:x (ResourceNotFound)"), id="configuration"
        ),
        pytest.param(InternalError("KeyError: 'api_key' at secrets.py line 3"), id="internal"),
    ],
)
def test_500_details_do_not_reveal_the_cause(error: PortalError) -> None:
    detail = error_body(error, "r")["error"]["detail"]

    assert detail != error.detail
    assert "arn:" not in detail
    assert "api_key" not in detail
    assert "logs" in detail


def test_client_error_details_are_kept() -> None:
    assert error_body(ForbiddenError("The token does not name a Paddle customer."), "r")["error"]["detail"] == (
        "The token does not name a Paddle customer."
    )
