"""The contract's error table, row by row, through the real handler: status, code, Paddle's envelope, `Cache-Control:
no-store`, `Retry-After` on 429, and 500s that do not reveal their cause. Successes are uncacheable too."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.events import BROWSER_ACCEPT, claims, http_api
from tests.integration.checks import assert_error
from tests.integration.conftest import CapturedLogs
from tests.support import API_KEY, CUSTOMER_ID, SECRET_ID, SUBSCRIPTION_ID, LambdaContext, PaddleStub, paddle_error

IAM_POST = f"/customers/{CUSTOMER_ID}/portal-sessions"
POST = http_api("POST", IAM_POST)
GET = http_api("GET", f"/customers/{CUSTOMER_ID}/portal", accept=BROWSER_ACCEPT)


def nothing(**_: Any) -> None:
    pass


def paddle_answers(status: int, body: Any, headers: dict[str, str] | None = None) -> Callable[..., None]:
    def arrange(paddle: PaddleStub, **_: Any) -> None:
        paddle.answers(status, body, headers=headers)

    return arrange


def paddle_unreachable(monkeypatch: pytest.MonkeyPatch, **_: Any) -> None:
    # A port that was just free and is closed again: every connection attempt is refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PADDLE_API_BASE_URL", f"http://127.0.0.1:{port}")


def link_elsewhere(paddle: PaddleStub, **_: Any) -> None:
    paddle.creates_session(CUSTOMER_ID, host="https://customer-portal.paddle.com.evil.example")


def no_time_left(context: LambdaContext, paddle: PaddleStub, **_: Any) -> None:
    paddle.creates_session(CUSTOMER_ID)
    context.remaining_ms = 1_100  # the 1 s safety margin leaves too little for a request


def secret_missing(aws: Any, paddle: PaddleStub, **_: Any) -> None:
    aws.client.delete_secret(SecretId=SECRET_ID, ForceDeleteWithoutRecovery=True)
    aws.reset()
    paddle.creates_session(CUSTOMER_ID)


def secret_malformed(aws: Any, paddle: PaddleStub, **_: Any) -> None:
    aws.client.put_secret_value(SecretId=SECRET_ID, SecretString='{"api_key": ')
    aws.reset()
    paddle.creates_session(CUSTOMER_ID)


def unexpected(monkeypatch: pytest.MonkeyPatch, **_: Any) -> None:
    from paddle_portal import portal

    def broken(*_: Any, **__: Any) -> Any:
        raise KeyError(f"unexpected failure holding {API_KEY}")

    monkeypatch.setattr(portal, "open_portal_session", broken)


@dataclass(frozen=True)
class Row:
    event: dict[str, Any]
    status: int
    code: str
    arrange: Callable[..., None] = nothing
    fields: bool = False
    paddle_called: bool = False
    private: tuple[str, ...] = field(default=())  # texts the detail must not contain (the cause of a 500)


ROWS = {
    "body-not-json": Row(http_api("POST", IAM_POST, body="{not json"), 400, "invalid_json"),
    "body-not-an-object": Row(http_api("POST", IAM_POST, body=[SUBSCRIPTION_ID]), 400, "invalid_json"),
    "field-invalid": Row(
        http_api("POST", IAM_POST, body={"subscription_ids": ["sub_bad"]}), 400, "invalid_field", fields=True
    ),
    "more-than-25-ids": Row(
        http_api("POST", IAM_POST, body={"subscription_ids": [f"sub_{i:026d}" for i in range(26)]}),
        400,
        "invalid_field",
        fields=True,
    ),
    "duplicate-ids": Row(
        http_api("POST", IAM_POST, body={"subscription_ids": [SUBSCRIPTION_ID] * 2}), 400, "invalid_field", fields=True
    ),
    "unknown-field": Row(http_api("POST", IAM_POST, body={"extra": 1}), 400, "invalid_field", fields=True),
    "bad-action": Row(
        http_api("GET", f"/customers/{CUSTOMER_ID}/portal", query={"action": "x"}), 400, "invalid_field", fields=True
    ),
    "body-over-16-KiB": Row(http_api("POST", IAM_POST, body="{}" + " " * 16_383), 413, "request_too_large"),
    "no-identity": Row(http_api("POST", IAM_POST, auth=None), 401, "authentication_missing"),
    "claim-absent": Row(http_api("GET", "/portal", auth="jwt", token_claims=claims(None)), 403, "forbidden"),
    "claim-malformed": Row(http_api("GET", "/portal", auth="jwt", token_claims=claims("ctm_nope")), 403, "forbidden"),
    "paddle-404": Row(
        POST, 404, "not_found", paddle_answers(404, paddle_error("entity_not_found")), paddle_called=True
    ),
    "paddle-400": Row(
        POST,
        400,
        "bad_request",
        paddle_answers(400, paddle_error("bad_request", errors=[{"field": "subscription_ids", "message": "invalid"}])),
        fields=True,
        paddle_called=True,
    ),
    "paddle-429": Row(
        POST,
        429,
        "too_many_requests",
        paddle_answers(429, paddle_error("too_many_requests"), {"Retry-After": "20"}),
        paddle_called=True,
    ),
    "paddle-5xx": Row(
        POST,
        502,
        "bad_gateway",
        paddle_answers(503, paddle_error("service_unavailable", type_="api_error")),
        paddle_called=True,
    ),
    "paddle-unreachable": Row(POST, 502, "bad_gateway", paddle_unreachable),
    "portal-link-on-host-not-allowed": Row(GET, 502, "bad_gateway", link_elsewhere, paddle_called=True),
    "deadline": Row(POST, 504, "gateway_timeout", no_time_left),
    "key-rejected": Row(
        POST,
        500,
        "configuration_error",
        paddle_answers(403, paddle_error("invalid_token", f"Token {API_KEY} is revoked")),
        paddle_called=True,
        private=("token", "invalid_token"),
    ),
    "secret-missing": Row(
        POST, 500, "configuration_error", secret_missing, private=("secret", SECRET_ID, "ResourceNotFound")
    ),
    "secret-malformed": Row(POST, 500, "configuration_error", secret_malformed, private=("secret", "JSON")),
    "unexpected": Row(POST, 500, "internal_error", unexpected, private=("KeyError", "unexpected failure")),
}


@pytest.mark.usefixtures("fast_backoff")
@pytest.mark.parametrize("row", list(ROWS.values()), ids=list(ROWS))
def test_error_table(
    row: Row,
    invoke: Any,
    paddle: PaddleStub,
    aws: Any,
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    logs: CapturedLogs,
) -> None:
    # Given
    row.arrange(paddle=paddle, aws=aws, context=context, monkeypatch=monkeypatch)

    # When
    response = invoke(row.event)

    # Then the documented status and code, in Paddle's envelope, uncacheable (checked by assert_error)
    error = assert_error(response, row.status, row.code, fields=row.fields)
    for text in row.private:
        assert text.lower() not in error["detail"].lower()
    assert bool(paddle.requests) is row.paddle_called
    if row.status >= 500:
        assert any(record["level"] == "ERROR" for record in logs.records)  # the operator is told, in the logs


def test_retry_after_on_429(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    paddle.answers(429, paddle_error("too_many_requests"), headers={"Retry-After": "20"})

    response = invoke(POST)

    assert response["headers"]["Retry-After"] == "20"


@pytest.mark.parametrize(
    ("event", "status"),
    [
        pytest.param(POST, 201, id="post-201"),
        pytest.param(GET, 302, id="get-302"),
        pytest.param(http_api("GET", "/portal", auth="jwt"), 200, id="get-json-200"),
    ],
)
def test_successes_are_uncacheable_too(
    event: dict[str, Any], status: int, invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    paddle.creates_session(CUSTOMER_ID)

    response = invoke(event)

    assert response["statusCode"] == status
    assert response["headers"]["Cache-Control"] == "no-store"
