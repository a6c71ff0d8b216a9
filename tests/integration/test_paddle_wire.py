"""The real urllib3 client against a Paddle stand-in on 127.0.0.1: what we send, and how each answer reaches the
caller. (Retries, deadlines and key rotation in detail: test_faults*.py.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from paddle_portal import __version__
from tests.events import BROWSER_ACCEPT, http_api
from tests.integration.checks import assert_error, body_of
from tests.support import (
    API_KEY,
    CUSTOMER_ID,
    OTHER_SUBSCRIPTION_ID,
    SUBSCRIPTION_ID,
    PaddleStub,
    SecretsManagerCalls,
    paddle_error,
    portal_session,
)

IAM_POST = f"/customers/{CUSTOMER_ID}/portal-sessions"
IAM_GET = f"/customers/{CUSTOMER_ID}/portal"


def test_request_sent_to_paddle(invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls) -> None:
    # Given
    paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID))

    # When
    invoke(http_api("POST", IAM_POST, body={"subscription_ids": [SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID]}))

    # Then one POST, authenticated with the key, pinned to API version 1, JSON both ways, naming this project
    [request] = paddle.requests
    assert request.method == "POST"
    assert request.path == f"/customers/{CUSTOMER_ID}/portal-sessions"
    assert request.query_string == b""
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Paddle-Version"] == "1"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith(f"paddle-portal-lambda/{__version__}")
    assert json.loads(request.get_data()) == {"subscription_ids": [SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID]}


def test_body_without_ids_is_an_empty_object(invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls) -> None:
    paddle.creates_session(CUSTOMER_ID)

    invoke(http_api("POST", IAM_POST))

    assert paddle.requests[0].get_data() == b"{}"


def test_caller_headers_are_not_forwarded(invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls) -> None:
    paddle.creates_session(CUSTOMER_ID)
    event = http_api("POST", IAM_POST)

    invoke(event)

    sent = paddle.requests[0].headers  # case-insensitive lookups
    assert "X-Amz-Security-Token" not in sent
    assert "X-Forwarded-For" not in sent
    assert sent["Authorization"] != event["headers"]["authorization"]


ANSWERS = [
    pytest.param(404, paddle_error("entity_not_found"), None, 404, "not_found", id="404-not-found"),
    # A 4xx page that is not Paddle's envelope (an edge or WAF speaking) says nothing about the key or the customer.
    pytest.param(404, b"<html><h1>Not Found</h1></html>", None, 404, "not_found", id="404-without-envelope"),
    pytest.param(403, paddle_error("invalid_token"), None, 500, "configuration_error", id="403-invalid-token"),
    pytest.param(403, paddle_error("forbidden"), None, 500, "configuration_error", id="403-missing-permission"),
    pytest.param(403, b"<html>Forbidden</html>", None, 500, "configuration_error", id="403-without-envelope"),
    pytest.param(401, paddle_error("authentication_missing"), None, 500, "configuration_error", id="401"),
    pytest.param(500, paddle_error("internal_error", type_="api_error"), None, 502, "bad_gateway", id="500"),
    pytest.param(
        502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", None, 502, "bad_gateway", id="502-html-from-an-edge"
    ),
    pytest.param(503, b"", None, 502, "bad_gateway", id="503-empty"),
    pytest.param(
        429, paddle_error("too_many_requests"), {"Retry-After": "30"}, 429, "too_many_requests", id="429-retry-after"
    ),
    pytest.param(429, paddle_error("too_many_requests"), None, 429, "too_many_requests", id="429-no-retry-after"),
    pytest.param(201, b"<html>not json</html>", None, 502, "bad_gateway", id="201-html"),
    pytest.param(201, {"meta": {"request_id": "x"}}, None, 502, "bad_gateway", id="201-without-data"),
    pytest.param(
        201, {"data": {"id": "cpls_01h4ge9r64c22exjsx0fy8b48b"}}, None, 502, "bad_gateway", id="201-without-urls"
    ),
    pytest.param(301, b"", {"Location": "https://evil.example/"}, 502, "bad_gateway", id="301-not-followed"),
]


@pytest.mark.usefixtures("fast_backoff")
@pytest.mark.parametrize(("status", "body", "headers", "our_status", "code"), ANSWERS)
def test_paddle_answers(
    status: int,
    body: Any,
    headers: dict[str, str] | None,
    our_status: int,
    code: str,
    invoke: Any,
    paddle: PaddleStub,
    aws: SecretsManagerCalls,
) -> None:
    # Given Paddle answers this way, every time
    paddle.answers(status, body, headers=headers)

    # When
    response = invoke(http_api("GET", IAM_GET, accept=BROWSER_ACCEPT))

    # Then the caller gets our envelope, nothing of an HTML page, and no redirect
    error = assert_error(response, our_status, code)
    assert "<" not in error["detail"]
    assert paddle.requests


def test_paddle_400_passes_paddles_code_and_field_errors(
    invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls
) -> None:
    # Given Paddle refuses the caller's data
    body = paddle_error(
        "bad_request",
        "Invalid request.",
        errors=[
            {"field": "subscription_ids", "message": "subscription sub_01h04vsc0qhwtsbsxh3422wjs4 not found"},
        ],
    )
    paddle.answers(400, body)

    # When
    response = invoke(http_api("POST", IAM_POST, body={"subscription_ids": [SUBSCRIPTION_ID]}))

    # Then the caller sees Paddle's code, field errors and request id
    error = assert_error(response, 400, "bad_request", fields=True)
    assert error["errors"] == body["error"]["errors"]
    assert error["detail"] == "Invalid request."
    assert body_of(response)["meta"]["request_id"] == body["meta"]["request_id"]


def test_paddle_404_keeps_paddles_request_id(invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls) -> None:
    body = paddle_error("entity_not_found")
    paddle.answers(404, body)

    response = invoke(http_api("POST", IAM_POST))

    assert_error(response, 404, "not_found")
    assert body_of(response)["meta"]["request_id"] == body["meta"]["request_id"]
    assert len(paddle.requests) == 1  # a 404 is an answer, not retried


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        pytest.param("30", "30", id="paddles-value"),
        pytest.param(None, "10", id="default-when-paddle-names-none"),
    ],
)
@pytest.mark.usefixtures("fast_backoff")
def test_rate_limit_tells_the_caller_when_to_retry(
    retry_after: str | None, expected: str, invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls
) -> None:
    paddle.answers(429, paddle_error("too_many_requests"), headers={"Retry-After": retry_after} if retry_after else {})

    response = invoke(http_api("POST", IAM_POST))

    assert_error(response, 429, "too_many_requests")
    assert response["headers"]["Retry-After"] == expected


@pytest.mark.parametrize(
    ("host", "subscriptions"),
    [
        pytest.param("https://portal.evil.example", (), id="overview-on-other-host"),
        pytest.param("http://customer-portal.paddle.com", (), id="plain-http"),
        pytest.param("https://customer-portal.paddle.com:8443", (), id="other-port"),
        pytest.param(
            "https://customer-portal.paddle.com.evil.example",
            (SUBSCRIPTION_ID,),
            id="lookalike-host-with-subscription-links",
        ),
    ],
)
@pytest.mark.parametrize("accept", [BROWSER_ACCEPT, "application/json"], ids=["redirect", "json"])
def test_links_on_hosts_not_allowed_never_leave(
    host: str, subscriptions: tuple[str, ...], accept: str, invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls
) -> None:
    # Given Paddle (or whatever answers in its place) returns links elsewhere
    paddle.creates_session(CUSTOMER_ID, subscriptions, host=host)
    query = {"subscription_id": SUBSCRIPTION_ID} if subscriptions else {}

    # When
    response = invoke(http_api("GET", IAM_GET, query=query, accept=accept))

    # Then neither a redirect nor the JSON carries them
    assert_error(response, 502, "bad_gateway")
    assert "evil" not in response["body"]


def test_allowed_hosts_are_configurable(
    invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given PORTAL_ALLOWED_HOSTS names a custom portal domain
    monkeypatch.setenv("PORTAL_ALLOWED_HOSTS", "billing.example.com")
    sent = paddle.creates_session(CUSTOMER_ID, host="https://billing.example.com")

    # When / Then it is redirected to; Paddle's default host is refused under that setting
    response = invoke(http_api("GET", IAM_GET, accept=BROWSER_ACCEPT))
    assert response["headers"]["Location"] == sent["data"]["urls"]["general"]["overview"]


def test_paddles_session_is_passed_through_untouched(invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls) -> None:
    # Given Paddle's answer has a field this function does not know about
    body = portal_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))
    body["data"]["future_field"] = {"nested": [1, 2]}
    paddle.answers(201, body, headers={"Request-Id": body["meta"]["request_id"]})

    # When
    response = invoke(http_api("POST", IAM_POST, body={"subscription_ids": [SUBSCRIPTION_ID]}))

    # Then the caller gets it exactly
    assert response["statusCode"] == 201
    assert body_of(response) == body
