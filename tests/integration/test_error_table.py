"""The contract's error table, row by row, through the real handler: status, code, Paddle's envelope, `Cache-Control:
no-store`, `Retry-After` on 429, and 500s that do not reveal their cause (successes: tests/integration/checks.py)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tests.events import BROWSER_ACCEPT, claims_with, http_api
from tests.integration.checks import assert_error
from tests.support import API_KEY, CUSTOMER_ID, SECRET_ID, SUBSCRIPTION_ID, paddle_error

IAM_POST = f"/customers/{CUSTOMER_ID}/portal-sessions"
POST = http_api("POST", IAM_POST)


def nothing(**_: Any) -> None:
    pass


def paddle_answers(status: int, code: str, headers: dict[str, str] | None = None, **error: Any) -> Any:
    return lambda paddle, **_: paddle.answers(status, paddle_error(code, **error), headers=headers)


def paddle_links_to(host: str) -> Any:
    return lambda paddle, **_: paddle.creates_session(host=host)


def paddle_unreachable(monkeypatch: pytest.MonkeyPatch, **_: Any) -> None:
    with socket.socket() as probe:  # a port that was just free and is closed again: every connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PADDLE_API_BASE_URL", f"http://127.0.0.1:{port}")


def no_time_left(context: Any, paddle: Any, **_: Any) -> None:
    paddle.creates_session(CUSTOMER_ID)
    context.remaining_ms = 1_100  # the 1 s safety margin leaves too little for a request


def secret(value: str | None) -> Any:
    def arrange(aws: Any, paddle: Any, **_: Any) -> None:
        if value is None:
            aws.client.delete_secret(SecretId=SECRET_ID, ForceDeleteWithoutRecovery=True)
        else:
            aws.client.put_secret_value(SecretId=SECRET_ID, SecretString=value)
        paddle.creates_session(CUSTOMER_ID)

    return arrange


def unexpected(monkeypatch: pytest.MonkeyPatch, **_: Any) -> None:
    from paddle_portal import portal

    def broken(*_: Any, **__: Any) -> Any:
        raise KeyError(f"unexpected failure holding {API_KEY}")

    monkeypatch.setattr(portal, "open_portal_session", broken)


def body(document: Any) -> dict[str, Any]:
    return http_api("POST", IAM_POST, body=document)


def token(claim: Any) -> dict[str, Any]:
    return http_api("GET", "/portal", auth="jwt", token_claims=claims_with(claim))


def get(query: str = "") -> dict[str, Any]:
    return http_api("GET", f"/customers/{CUSTOMER_ID}/portal", query=query, accept=BROWSER_ACCEPT)


def row(event: Any, status: int, code: str, arrange: Any = nothing, called: bool = False, private: Any = ()) -> Any:
    """`called`: Paddle was called; `private`: texts a 500's detail must not hold."""
    return event, status, code, arrange, called, private


LOOKALIKE = "https://customer-portal.paddle.com.evil.example"
ROWS = {
    "body-not-json": row(body("{not json"), 400, "invalid_json"),
    "body-not-an-object": row(body([SUBSCRIPTION_ID]), 400, "invalid_json"),
    "field-invalid": row(body({"subscription_ids": ["sub_bad"]}), 400, "invalid_field"),
    "more-than-25-ids": row(body({"subscription_ids": [f"sub_{i:026d}" for i in range(26)]}), 400, "invalid_field"),
    "duplicate-ids": row(body({"subscription_ids": [SUBSCRIPTION_ID] * 2}), 400, "invalid_field"),
    "unknown-field": row(body({"extra": 1}), 400, "invalid_field"),
    "bad-action": row(get("action=x"), 400, "invalid_field"),
    "body-over-16-KiB": row(body("{}" + " " * 16_383), 413, "request_too_large"),
    "no-identity": row(http_api("POST", IAM_POST, auth=None), 401, "authentication_missing"),
    "claim-absent": row(token(...), 403, "forbidden"),
    "claim-malformed": row(token("ctm_nope"), 403, "forbidden"),
    "paddle-404": row(POST, 404, "not_found", paddle_answers(404, "entity_not_found"), True),
    "paddle-400": row(
        POST, 400, "bad_request", paddle_answers(400, "bad_request", errors=[{"field": "x", "message": "y"}]), True
    ),
    "paddle-429": row(
        POST, 429, "too_many_requests", paddle_answers(429, "too_many_requests", {"Retry-After": "20"}), True
    ),
    "paddle-5xx": row(POST, 502, "bad_gateway", paddle_answers(503, "service_unavailable", type_="api_error"), True),
    "paddle-unreachable": row(POST, 502, "bad_gateway", paddle_unreachable),
    "portal-link-on-host-not-allowed": row(get(), 502, "bad_gateway", paddle_links_to(LOOKALIKE), True),
    "deadline": row(POST, 504, "gateway_timeout", no_time_left),
    "key-rejected": row(
        POST,
        500,
        "configuration_error",
        paddle_answers(403, "invalid_token", detail=f"Token {API_KEY}"),
        True,
        ["token"],
    ),
    "secret-missing": row(
        POST, 500, "configuration_error", secret(None), private=["secret", SECRET_ID, "ResourceNotFound"]
    ),
    "secret-malformed": row(POST, 500, "configuration_error", secret('{"api_key": '), private=["secret", "JSON"]),
    "unexpected": row(POST, 500, "internal_error", unexpected, private=["KeyError", "unexpected failure"]),
}


@pytest.mark.usefixtures("fast_backoff")
@pytest.mark.parametrize(
    ("event", "status", "code", "arrange", "called", "private"), list(ROWS.values()), ids=list(ROWS)
)
def test_error_table(event, status, code, arrange, called, private, invoke, paddle, aws, context, monkeypatch, logs):
    # Given
    arrange(paddle=paddle, aws=aws, context=context, monkeypatch=monkeypatch)

    # When
    response = invoke(event)

    # Then the documented status and code, in Paddle's envelope, uncacheable (checked by assert_error)
    error = assert_error(response, status, code, fields=code in ("invalid_field", "bad_request"))
    assert not any(text.lower() in error["detail"].lower() for text in private)
    assert bool(paddle.requests) is called
    if status >= 500:
        assert any(record["level"] == "ERROR" for record in logs.records)  # the operator is told, in the logs
    if status == 429:
        assert response["headers"]["Retry-After"] == "20"
