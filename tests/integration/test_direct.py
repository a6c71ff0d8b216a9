"""Direct invocation by another Lambda: returns `{"data", "meta"}`; every failure raises a typed exception whose
class name is the contract (`errorType`, Step Functions `Catch`) and whose message carries no secret or link."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from paddle_portal import errors
from tests.events import load_event
from tests.integration.conftest import CapturedLogs
from tests.support import (
    API_KEY,
    CUSTOMER_ID,
    PORTAL_TOKEN,
    SUBSCRIPTION_ID,
    LambdaContext,
    PaddleStub,
    SecretsManagerCalls,
    paddle_error,
    portal_session,
)

PAYLOAD = {"customer_id": CUSTOMER_ID, "subscription_ids": [SUBSCRIPTION_ID]}


def assert_nothing_secret(error: BaseException) -> None:
    for text in (str(error), repr(error), *map(str, error.args)):
        assert API_KEY not in text
        assert "pdl_" not in text
        assert PORTAL_TOKEN not in text
        assert "customer-portal.paddle.com" not in text
        assert "127.0.0.1" not in text  # nor the (here: local) Paddle URL


@pytest.mark.parametrize(
    ("payload", "ids"),
    [
        pytest.param({"customer_id": CUSTOMER_ID}, (), id="minimal"),
        pytest.param(PAYLOAD, (SUBSCRIPTION_ID,), id="with-ids"),
        pytest.param({**PAYLOAD, "correlation_id": "order-4711"}, (SUBSCRIPTION_ID,), id="with-correlation-id"),
    ],
)
def test_returns_paddles_session(
    payload: dict[str, Any], ids: tuple[str, ...], invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls
) -> None:
    sent = paddle.creates_session(CUSTOMER_ID, ids)

    result = invoke(payload)

    assert result == {"data": sent["data"], "meta": {"request_id": sent["meta"]["request_id"]}}
    assert paddle.sent_json() == ({"subscription_ids": list(ids)} if ids else {})


INVALID_PAYLOADS = [
    pytest.param(load_event("unknown/s3_event.json"), id="s3-event"),
    pytest.param([PAYLOAD], id="list"),
    pytest.param(CUSTOMER_ID, id="string"),
    pytest.param(None, id="null"),
    pytest.param(42, id="number"),
    pytest.param({}, id="empty-object"),
    pytest.param({"customer_id": "cus_123"}, id="bad-customer"),
    pytest.param({**PAYLOAD, "customer_email": "jane@example.com"}, id="unknown-field"),
    pytest.param({**PAYLOAD, "subscription_ids": [f"sub_{i:026d}" for i in range(26)]}, id="26-ids"),
    pytest.param({**PAYLOAD, "subscription_ids": [SUBSCRIPTION_ID, SUBSCRIPTION_ID]}, id="duplicate-ids"),
    pytest.param({**PAYLOAD, "subscription_ids": "sub_01h04vsc0qhwtsbsxh3422wjs4"}, id="ids-not-a-list"),
    pytest.param({**PAYLOAD, "correlation_id": "has spaces"}, id="bad-correlation-id"),
    pytest.param({"body": '{"customer_id": "ctm_01gysfvfy7vqhpzkq8rjmrq7an"}'}, id="api-shaped-without-context"),
    pytest.param({**PAYLOAD, "requestContext": "not-an-object"}, id="request-context-not-an-object"),
    pytest.param({**PAYLOAD, "requestContext": None}, id="request-context-null"),
]


@pytest.mark.parametrize("payload", INVALID_PAYLOADS)
def test_invalid_payloads_raise_invalid_request_error(
    payload: Any, invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls
) -> None:
    with pytest.raises(errors.InvalidRequestError) as raised:
        invoke(payload)

    assert type(raised.value).__name__ == "InvalidRequestError"
    assert paddle.requests == []
    assert aws.get_secret_value == 0


def paddle_answers(status: int, body: Any, headers: dict[str, str] | None = None) -> Callable[..., None]:
    def arrange(paddle: PaddleStub, **_: Any) -> None:
        paddle.answers(status, body, headers=headers)

    return arrange


def link_on_other_host(paddle: PaddleStub, **_: Any) -> None:
    paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,), host="https://portal.evil.example")


def little_time_left(context: LambdaContext, **_: Any) -> None:
    context.remaining_ms = 1_100  # 1 s safety margin leaves 0.1 s: too little to start a request


def secret_missing(monkeypatch: pytest.MonkeyPatch, **_: Any) -> None:
    monkeypatch.setenv("PADDLE_API_KEY_SECRET_ID", "paddle-portal/does-not-exist")


def bad_setting(monkeypatch: pytest.MonkeyPatch, **_: Any) -> None:
    monkeypatch.setenv("PADDLE_ENVIRONMENT", "live")


def unexpected_failure(monkeypatch: pytest.MonkeyPatch, **_: Any) -> None:
    from paddle_portal import portal

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError(f"unexpected, with {API_KEY} and https://customer-portal.paddle.com/x?token={PORTAL_TOKEN}")

    monkeypatch.setattr(portal, "open_portal_session", broken)


FAILURES = [
    pytest.param(
        paddle_answers(
            400,
            paddle_error(
                "bad_request",
                errors=[{"field": "subscription_ids", "message": "subscription does not belong to this customer"}],
            ),
        ),
        "InvalidRequestError",
        id="paddle-400",
    ),
    pytest.param(paddle_answers(404, paddle_error("entity_not_found")), "CustomerNotFoundError", id="paddle-404"),
    pytest.param(
        paddle_answers(429, paddle_error("too_many_requests"), {"Retry-After": "30"}),
        "RateLimitedError",
        id="paddle-429-retry-after-past-the-deadline",
    ),
    pytest.param(
        paddle_answers(500, paddle_error("internal_error", type_="api_error")), "UpstreamError", id="paddle-500"
    ),
    pytest.param(
        paddle_answers(502, b"<html><body>502 Bad Gateway</body></html>", {"Content-Type": "text/html"}),
        "UpstreamError",
        id="paddle-502-html",
    ),
    pytest.param(link_on_other_host, "UpstreamError", id="link-on-a-host-not-allowed"),
    pytest.param(little_time_left, "UpstreamTimeoutError", id="no-time-left"),
    pytest.param(
        paddle_answers(403, paddle_error("invalid_token", f"Token {API_KEY} is revoked")),
        "ConfigurationError",
        id="paddle-403-key-rejected",
    ),
    pytest.param(secret_missing, "ConfigurationError", id="secret-missing"),
    pytest.param(bad_setting, "ConfigurationError", id="bad-setting"),
    pytest.param(unexpected_failure, "InternalError", id="unexpected"),
]


@pytest.mark.usefixtures("fast_backoff")
@pytest.mark.parametrize(("arrange", "error_type"), FAILURES)
def test_failures_raise_typed_errors_without_secrets(
    arrange: Callable[..., None],
    error_type: str,
    invoke: Any,
    paddle: PaddleStub,
    aws: SecretsManagerCalls,
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given
    arrange(paddle=paddle, context=context, monkeypatch=monkeypatch)

    # When
    with pytest.raises(errors.PortalError) as raised:
        invoke(PAYLOAD)

    # Then the documented class, from the public error module, tells the invoker what happened
    assert type(raised.value).__name__ == error_type
    assert type(raised.value) is getattr(errors, error_type)
    assert_nothing_secret(raised.value)


def test_rate_limited_error_carries_retry_after(invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls) -> None:
    paddle.answers(429, paddle_error("too_many_requests"), headers={"Retry-After": "30"})

    with pytest.raises(errors.RateLimitedError) as raised:
        invoke(PAYLOAD)

    assert raised.value.retry_after == 30


def test_paddle_400_keeps_paddles_code_and_fields(invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls) -> None:
    paddle.answers(400, paddle_error("bad_request", errors=[{"field": "subscription_ids", "message": "not found"}]))

    with pytest.raises(errors.InvalidRequestError) as raised:
        invoke(PAYLOAD)

    assert raised.value.code == "bad_request"
    assert [(e.field, e.message) for e in raised.value.errors] == [("subscription_ids", "not found")]


def test_configuration_error_message_is_generic(
    invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the secret does not exist
    monkeypatch.setenv("PADDLE_API_KEY_SECRET_ID", "paddle-portal/does-not-exist")

    # When
    with pytest.raises(errors.ConfigurationError) as raised:
        invoke(PAYLOAD)

    # Then the invoker learns the class, and the cause stays in the function's logs
    assert "does-not-exist" not in str(raised.value)
    assert "ResourceNotFound" not in str(raised.value)
    assert paddle.requests == []


def test_logs_never_hold_the_key_or_a_link(
    invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls, logs: CapturedLogs
) -> None:
    # Given one success and one rejected key
    paddle.answers(201, portal_session(CUSTOMER_ID, (SUBSCRIPTION_ID,)), once=True)
    paddle.answers(403, paddle_error("invalid_token", f"Token {API_KEY} is revoked"))

    # When
    invoke(PAYLOAD)
    with pytest.raises(errors.ConfigurationError):
        invoke(PAYLOAD)

    # Then the logs name ids and codes, never the key, a portal link or its token
    assert "Portal session created" in logs.text
    assert "invalid_token" in logs.text
    assert API_KEY not in logs.text
    assert PORTAL_TOKEN not in logs.text
    assert "customer-portal.paddle.com" not in logs.text
