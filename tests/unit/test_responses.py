"""Every HTTP answer (`http_api.responses`): JSON, a redirect, Paddle's error envelope, or a small page for a person
following a signed link; never cacheable, and a 5xx never says its cause."""

from __future__ import annotations

import json

import pytest

from paddle_portal import errors
from paddle_portal.errors import FieldError, PortalError, RateLimitedError
from paddle_portal.http_api.responses import BUSY_MAX_TRIES, error_page, error_response, json_response, redirect
from tests.integration.checks import assert_error_page

LINK = "https://customer-portal.paddle.com/cpl_01j7zbyqs3vah3aafp4jf62qaw?token=pga_FAKE"


def test_json_response():
    assert json_response(201, {"data": {"id": "cpls_1"}, "meta": {"request_id": "r"}}) == {
        "statusCode": 201,
        "headers": {
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
        "body": '{"data":{"id":"cpls_1"},"meta":{"request_id":"r"}}',
        "isBase64Encoded": False,
    }


def test_redirect_says_no_referrer():
    response = redirect(LINK)

    assert (response["statusCode"], response["body"], response["headers"]["Location"]) == (302, "", LINK)
    assert response["headers"]["Referrer-Policy"] == "no-referrer"  # the token must not travel on from the portal
    assert response["headers"]["Cache-Control"] == "no-store"


ERRORS = {
    "invalid-field": ("InvalidRequestError", {}, 400, "request_error", "invalid_field"),
    "invalid-json": ("InvalidRequestError", {"code": "invalid_json"}, 400, "request_error", "invalid_json"),
    "too-large": ("RequestTooLargeError", {}, 413, "request_error", "request_too_large"),
    "authentication-missing": ("AuthenticationMissingError", {}, 401, "request_error", "authentication_missing"),
    "forbidden": ("ForbiddenError", {}, 403, "request_error", "forbidden"),
    "route-not-found": ("RouteNotFoundError", {}, 404, "request_error", "not_found"),
    "customer-not-found": ("CustomerNotFoundError", {}, 404, "request_error", "not_found"),
    "ambiguous-customer": ("AmbiguousCustomerError", {}, 409, "request_error", "ambiguous_customer"),
    "rate-limited": ("RateLimitedError", {"retry_after": 7}, 429, "request_error", "too_many_requests"),
    "bad-gateway": ("UpstreamError", {}, 502, "api_error", "bad_gateway"),
    "gateway-timeout": ("UpstreamTimeoutError", {}, 504, "api_error", "gateway_timeout"),
    "configuration": ("ConfigurationError", {}, 500, "api_error", "configuration_error"),
    "internal": ("InternalError", {}, 500, "api_error", "internal_error"),
    "invalid-link": ("LinkInvalidError", {}, 403, "request_error", "invalid_link"),
}


@pytest.mark.parametrize(("name", "kwargs", "status", "type_", "code"), list(ERRORS.values()), ids=list(ERRORS))
def test_error_envelope(name, kwargs, status, type_, code):
    error: PortalError = getattr(errors, name)("Cause: arn:aws:secretsmanager:x, KeyError 'api_key'", **kwargs)

    response = error_response(error, "gw-request-1")

    assert response["statusCode"] == status
    assert response["headers"]["Cache-Control"] == "no-store"
    assert response["headers"].get("Retry-After") == ("7" if status == 429 else None)
    body = json.loads(response["body"])
    assert body["meta"] == {"request_id": "gw-request-1"}
    assert (body["error"]["type"], body["error"]["code"]) == (type_, code)
    if status == 500:  # the cause is for the operator's logs
        assert "arn:" not in body["error"]["detail"]
        assert "logs" in body["error"]["detail"]
    else:
        assert body["error"]["detail"] == error.detail


def test_field_errors_and_paddles_request_id():
    error = errors.InvalidRequestError(
        "Invalid request.", errors=(FieldError("subscription_ids[0]", "bad"),), request_id="paddle-req"
    )

    assert json.loads(error_response(error, "gw-req")["body"]) == {
        "error": {
            "type": "request_error",
            "code": "invalid_field",
            "detail": "Invalid request.",
            "errors": [{"field": "subscription_ids[0]", "message": "bad"}],
        },
        "meta": {"request_id": "paddle-req"},
    }


@pytest.mark.parametrize(
    ("error", "title"),
    [
        (errors.LinkInvalidError("This link is not valid."), "This link cannot be opened"),
        (errors.LinkInvalidError("This link has expired.", code="link_expired"), "This link has expired"),
        (errors.CustomerNotFoundError("<b>no</b> such customer"), "This link cannot be opened"),
    ],
    ids=["invalid", "expired", "escaped"],
)
def test_a_person_gets_a_page_without_scripts_or_links(error, title):
    page = assert_error_page(error_page(error, "gw-<1>"), error.status)

    assert f"<h1>{title}</h1>" in page
    assert "<b>" not in page
    assert "Reference: gw-&lt;1&gt;" in page


@pytest.mark.parametrize(
    ("cookie", "retry_after", "refresh", "tries"),
    [
        (None, 1, 2, 0),
        ("1", 5, 5, 1),
        ("2", 600, 30, 2),
        (str(BUSY_MAX_TRIES), 5, None, BUSY_MAX_TRIES),
        ("999", 5, 5, 0),
        ("x", 5, 5, 0),
    ],
    ids=["short-wait-floored", "paddles-wait", "long-wait-capped", "stops-after-max-tries", "absurd-count", "garbage"],
)
def test_a_rate_limit_is_a_busy_page_that_retries_a_few_times(cookie, retry_after, refresh, tries):
    answer = error_page(RateLimitedError("limit", retry_after=retry_after), "gw-1", cookie)

    page = assert_error_page(answer, 429)
    headers = answer["headers"]
    assert headers["Retry-After"] == str(retry_after)  # the header keeps Paddle's word
    assert headers["Set-Cookie"].startswith(f"portal_busy={tries + 1};")
    assert "HttpOnly" in headers["Set-Cookie"]
    assert "Your link is fine" in page
    assert "cannot be opened" not in page
    assert "url=" not in page.lower()  # a refresh reloads the same address: the page never repeats the link
    if refresh is None:
        assert "http-equiv" not in page
        assert "reload this page" in page
    else:
        assert f'<meta http-equiv="refresh" content="{refresh}">' in page
