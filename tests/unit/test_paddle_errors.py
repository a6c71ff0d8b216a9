"""Paddle's error answers, mapped once each way: `paddle.errors.error_from_response` reads an answer into the client's
typed error (by status; for other 4xx by whether the body is Paddle's envelope), every text screened on the way in
(`paddle.screening`); `paddle_failures.public_error` turns the client's failure into the caller's error."""

from __future__ import annotations

import json

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
    PaddleAPIError,
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
    error_from_response,
)
from paddle_portal.paddle.screening import screened
from paddle_portal.paddle_failures import DEFAULT_RETRY_AFTER_SECONDS, public_error
from tests.support import API_KEY, CUSTOMER_ID, LEGACY_API_KEY, PORTAL_TOKEN, paddle_error

ENVELOPE = json.dumps(paddle_error("some_code")).encode()
HTML = b"<html><body>Request blocked</body></html>"


def by_status(status: int, body: bytes, cls: type[PaddleAPIError], why: str = "") -> object:
    return pytest.param(status, body, cls, id=f"{status}{'-html' if body == HTML else ''}{why}")


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        *(by_status(status, ENVELOPE, PaddleBadRequestError) for status in (400, 405, 409, 422)),
        *(by_status(status, ENVELOPE, PaddleAuthenticationError) for status in (401, 403)),
        by_status(404, ENVELOPE, PaddleNotFoundError),
        by_status(429, ENVELOPE, PaddleRateLimitError),
        *(by_status(status, ENVELOPE, PaddleServerError) for status in (500, 502, 503, 504, 302)),
        # An edge's or WAF's page says nothing about the caller's data: not a 400 for the caller...
        *(by_status(status, HTML, PaddleServerError, "-is-upstream-trouble") for status in (400, 409, 422)),
        # ...while these keep their meaning whatever the body (the contract maps them by status).
        *(by_status(status, HTML, PaddleAuthenticationError, "-still-our-key") for status in (401, 403)),
        by_status(404, HTML, PaddleNotFoundError, "-still-not-found"),
        by_status(429, HTML, PaddleRateLimitError, "-still-a-rate-limit"),
    ],
)
def test_class_by_status(status, body, cls):
    error = error_from_response(status, body)

    assert (type(error), error.status) == (cls, status)


def test_paddle_envelope_is_read():
    body = paddle_error("bad_request", "Invalid request.", [{"field": "subscription_ids", "message": "at most 25"}])

    error = error_from_response(400, json.dumps(body).encode(), request_id="from-header", retry_after=12)

    assert (error.code, error.detail, error.retry_after) == ("bad_request", "Invalid request.", 12)
    assert error.errors == (PaddleFieldError("subscription_ids", "at most 25"),)
    assert error.request_id == body["meta"]["request_id"]  # the body's, over the header's
    assert str(error) == "Paddle answered 400 bad_request"  # status and code only: no text of Paddle's
    del body["meta"]
    assert error_from_response(404, json.dumps(body).encode(), request_id="from-header").request_id == "from-header"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(HTML, id="html"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"[1, 2]", id="json-array"),
        pytest.param(b"null", id="json-null"),
        pytest.param(b'{"error": "oops"}', id="error-not-an-object"),
        pytest.param(b'{"message": "Internal server error"}', id="aws-style"),
        pytest.param(b"[" * 100_000, id="deeply-nested"),
    ],
)
def test_bodies_that_are_not_paddles_envelope_get_a_generic_code(body):
    error = error_from_response(502, body, request_id="hdr")

    assert type(error) is PaddleServerError
    assert (error.code, error.detail, error.errors, error.request_id) == ("http_502", "", (), "hdr")


def test_malformed_or_oversized_parts_of_the_envelope_are_replaced_not_trusted():
    malformed = {
        "error": {"code": 123, "detail": ["x"], "errors": [{"field": "a", "message": "b"}, "junk", {"field": 5}]},
        "meta": {"request_id": 42},
    }
    oversized = paddle_error("x" * 500, "d" * 5000, [{"field": "f" * 1000, "message": "m" * 1000}])
    oversized["meta"]["request_id"] = "r" * 1000

    first = error_from_response(400, json.dumps(malformed).encode(), request_id="hdr")
    second = error_from_response(400, json.dumps(oversized).encode())

    assert (first.code, first.detail, first.request_id) == ("http_400", "", "hdr")
    assert first.errors == (PaddleFieldError("a", "b"), PaddleFieldError("(field)", "Paddle rejected this value."))
    assert (second.code, second.detail, second.request_id) == ("http_400", "", None)
    assert second.errors == (PaddleFieldError("(field)", "Paddle rejected this value."),)


# --- the screen: what of Paddle's own words may reach a caller (its codes, field names and request ids: the security
# tier's test_paddle_answers.py) -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "passes"),
    [
        pytest.param("Invalid request.", True, id="plain"),
        pytest.param("subscription_ids[0]: must match ^sub_[a-z\\d]{26}$", True, id="pattern"),
        pytest.param(f"customer {CUSTOMER_ID} has no subscription sub_01h04vsc0qhwtsbsxh3422wjs4", True, id="ids"),
        pytest.param("Note: 25 items at most", True, id="colon-and-space"),
        pytest.param(f"Invalid header Authorization: Bearer {API_KEY}", False, id="api-key"),
        pytest.param("PDL_SDBX_APIKEY_x", False, id="key-prefix-any-case"),
        pytest.param("Bearer abc was refused", False, id="bearer"),
        pytest.param("the authorization header", False, id="authorization"),
        pytest.param(f"key {LEGACY_API_KEY} is not valid", False, id="legacy-key-40-opaque-characters"),
        pytest.param(f"token {PORTAL_TOKEN} already used", False, id="portal-token"),
        pytest.param("pga_abc", False, id="portal-token-prefix"),
        pytest.param("see https://evil.test/x", False, id="url"),
        pytest.param("javascript:alert(1)", False, id="scheme"),
        pytest.param("www.evil.test", False, id="bare-host"),
        pytest.param("customer-portal.paddle.com/cpl_01j7zbyqs3vah3aafp4jf62qaw", False, id="portal-host"),
        pytest.param("line one\r\nSet-Cookie: a=b", False, id="control-characters"),
        pytest.param("x" * 501, False, id="over-500-characters"),
        pytest.param("", False, id="empty"),
    ],
)
def test_screen(text, passes):
    assert screened(text, "fixed") == (text if passes else "fixed")


# --- the caller's error -----------------------------------------------------------------------------------------------

FIELD = PaddleFieldError("subscription_ids[0]", "does not belong to the customer")
NOT_FOUND = PaddleNotFoundError(404, "entity_not_found", "lookup text", request_id="p1")
BAD_REQUEST = PaddleBadRequestError(400, "bad_request", "Invalid request.", errors=(FIELD,), request_id="p1")
# id: (Paddle's failure as the client raises it, the public error it becomes; the error table gives status and code)
MAPPING: dict[str, tuple[PaddleError, type[PortalError]]] = {
    "404-not-found": (NOT_FOUND, CustomerNotFoundError),
    "400-about-the-callers-data": (BAD_REQUEST, InvalidRequestError),
    "429": (PaddleRateLimitError(429, "too_many_requests", "Slow down", retry_after=42), RateLimitedError),
    "403-invalid-token": (PaddleAuthenticationError(403, "invalid_token", f"{API_KEY} is bad"), ConfigurationError),
    "403-forbidden": (PaddleAuthenticationError(403, "forbidden", "Missing permission"), ConfigurationError),
    "500": (PaddleServerError(500, "internal_error", "Oops", request_id="p1"), UpstreamError),
    "502-html": (PaddleServerError(502, "http_502", ""), UpstreamError),
    "connection": (PaddleConnectionError("ConnectionRefusedError"), UpstreamError),
    "unusable-success": (PaddleResponseError("Paddle's answer is not JSON"), UpstreamError),
    "timeout": (PaddleTimeoutError("no time left"), UpstreamTimeoutError),
}


@pytest.mark.parametrize(("failure", "public"), list(MAPPING.values()), ids=list(MAPPING))
def test_public_error(failure, public):
    error = public_error(failure, CUSTOMER_ID)

    assert (type(error), error.request_id) == (public, failure.request_id)
    assert API_KEY not in str(error)
    if isinstance(failure, PaddleAPIError) and failure.detail:  # Paddle's text only when it is about the caller's data
        assert (failure.detail in error.detail) is isinstance(failure, PaddleBadRequestError)


def test_the_callers_error_keeps_paddles_field_errors_names_the_customer_and_says_when_to_retry():
    rejected = public_error(BAD_REQUEST, CUSTOMER_ID)
    bare = public_error(PaddleBadRequestError(400, "http_400", ""), CUSTOMER_ID)
    not_found = public_error(NOT_FOUND, CUSTOMER_ID)

    assert (rejected.code, rejected.errors) == ("bad_request", (FieldError(FIELD.field, FIELD.message),))
    assert bare.detail == "Paddle rejected the request."
    assert CUSTOMER_ID in not_found.detail
    limited = [PaddleRateLimitError(429, "too_many_requests", "", retry_after=seconds) for seconds in (42, 0, None)]
    assert [public_error(failure, None).retry_after for failure in limited] == [42, 0, DEFAULT_RETRY_AFTER_SECONDS]
