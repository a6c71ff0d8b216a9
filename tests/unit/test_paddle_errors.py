"""`paddle_errors.error_from_response`: one function maps Paddle's answer to its class, on status and code only."""

from __future__ import annotations

import json

import pytest

from paddle_portal.paddle.errors import (
    PaddleAPIError,
    PaddleAuthenticationError,
    PaddleBadRequestError,
    PaddleNotFoundError,
    PaddleRateLimitError,
    PaddleServerError,
    error_from_response,
)
from paddle_portal.paddle.errors import PaddleFieldError as FieldError
from tests.support import paddle_error


def encoded(body: object) -> bytes:
    return json.dumps(body).encode()


# Paddle's documented statuses, by the class each maps to (a 3xx is upstream trouble: the client follows none)
STATUSES_BY_CLASS: dict[type[PaddleAPIError], tuple[int, ...]] = {
    PaddleBadRequestError: (400, 405, 409, 422),
    PaddleAuthenticationError: (401, 403),
    PaddleNotFoundError: (404,),
    PaddleRateLimitError: (429,),
    PaddleServerError: (500, 502, 503, 504, 302),
}


@pytest.mark.parametrize(
    ("status", "cls"),
    [pytest.param(status, cls, id=str(status)) for cls, statuses in STATUSES_BY_CLASS.items() for status in statuses],
)
def test_class_by_status(status: int, cls: type[PaddleAPIError]) -> None:
    error = error_from_response(status, encoded(paddle_error("some_code")))

    assert type(error) is cls
    assert error.status == status


def test_paddle_envelope_is_read() -> None:
    # Given Paddle's documented error body with field errors
    body = paddle_error(
        "bad_request",
        "Invalid request.",
        errors=[
            {"field": "subscription_ids", "message": "must contain at most 25 items"},
        ],
    )

    # When it is mapped
    error = error_from_response(400, encoded(body), request_id="from-header", retry_after=None)

    # Then code, detail, field errors and the body's request id are kept
    assert error.code == "bad_request"
    assert error.detail == "Invalid request."
    assert error.errors == (FieldError("subscription_ids", "must contain at most 25 items"),)
    assert error.request_id == body["meta"]["request_id"]


def test_header_request_id_is_kept_when_the_body_has_none() -> None:
    body = paddle_error("not_found")
    del body["meta"]

    assert error_from_response(404, encoded(body), request_id="from-header").request_id == "from-header"


def test_retry_after_is_carried() -> None:
    assert error_from_response(429, encoded(paddle_error("too_many_requests")), retry_after=12).retry_after == 12


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<html><body><h1>502 Bad Gateway</h1></body></html>", id="html"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"[1, 2]", id="json-array"),
        pytest.param(b'{"error": "oops"}', id="error-not-an-object"),
        pytest.param(b'{"message": "Internal server error"}', id="aws-style"),
        pytest.param(b"null", id="json-null"),
    ],
)
def test_bodies_that_are_not_paddles_envelope_get_a_generic_code(body: bytes) -> None:
    error = error_from_response(502, body, request_id="hdr")

    assert type(error) is PaddleServerError
    assert error.code == "http_502"
    assert error.detail == ""
    assert error.errors == ()
    assert error.request_id == "hdr"


def test_malformed_parts_of_the_envelope_are_dropped_not_trusted() -> None:
    body = {
        "error": {
            "type": "request_error",
            "code": 123,
            "detail": ["not", "text"],
            "errors": [{"field": "a", "message": "b"}, "junk", {"field": 5, "message": None}],
        },
        "meta": {"request_id": 42},
    }

    error = error_from_response(400, encoded(body), request_id="hdr")

    assert error.code == "http_400"
    assert error.detail == ""
    # a field error without text gets our fixed texts (tests/security/test_paddle_answers.py has the screen)
    assert error.errors == (FieldError("a", "b"), FieldError("(field)", "Paddle rejected this value."))
    assert error.request_id == "hdr"


def test_long_texts_are_replaced_not_passed_on() -> None:
    body = paddle_error("x" * 500, "d" * 5000, errors=[{"field": "f" * 1000, "message": "m" * 1000}])
    body["meta"]["request_id"] = "r" * 1000

    error = error_from_response(400, encoded(body))

    assert error.code == "http_400"
    assert error.detail == ""  # the caller reads "Paddle rejected the request."
    assert error.errors == (FieldError("(field)", "Paddle rejected this value."),)
    assert error.request_id is None


def test_message_names_status_and_code_only() -> None:
    error = error_from_response(403, encoded(paddle_error("invalid_token", "token pdl_sdbx_apikey_x is revoked")))

    assert str(error) == "Paddle answered 403 invalid_token"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        # An edge's or WAF's page says nothing about the caller's data: not a 400 for the caller.
        pytest.param(400, PaddleServerError, id="400-is-upstream-trouble"),
        pytest.param(409, PaddleServerError, id="409-is-upstream-trouble"),
        pytest.param(422, PaddleServerError, id="422-is-upstream-trouble"),
        # The contract maps these by status: a bare 403 still means our key was refused, a bare 404 still not found.
        pytest.param(401, PaddleAuthenticationError, id="401-still-our-key"),
        pytest.param(403, PaddleAuthenticationError, id="403-still-our-key"),
        pytest.param(404, PaddleNotFoundError, id="404-still-not-found"),
        pytest.param(429, PaddleRateLimitError, id="429-still-a-rate-limit"),
    ],
)
def test_class_by_status_without_paddles_envelope(status: int, cls: type[PaddleAPIError]) -> None:
    error = error_from_response(status, b"<html><body>Request blocked</body></html>")

    assert type(error) is cls
    assert error.code == f"http_{status}"
