"""Direct invocation by another Lambda: returns `{"data", "meta"}`; every failure raises a typed exception whose
class name is the contract (`errorType`, Step Functions `Catch`) and whose message carries no secret, link or cause.
The payload's rules are a table in tests/unit/test_inputs.py; what else an invoker may send is refused in
tests/security/test_authorization_matrix.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from paddle_portal import errors
from tests.support import API_KEY, CUSTOMER_ID, PORTAL_TOKEN, SUBSCRIPTION_ID, paddle_error

PAYLOAD = {"customer_id": CUSTOMER_ID, "subscription_ids": [SUBSCRIPTION_ID]}


def test_returns_paddles_session(invoke, paddle):
    sent = paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))

    assert invoke(PAYLOAD) == {"data": sent["data"], "meta": {"request_id": sent["meta"]["request_id"]}}
    assert paddle.sent_json() == {"subscription_ids": [SUBSCRIPTION_ID]}


def paddle_answers(status: int, body: Any, headers: dict[str, str] | None = None) -> Callable[..., None]:
    return lambda paddle, **_: paddle.answers(status, body, headers=headers)


def unexpected_failure(monkeypatch: pytest.MonkeyPatch, **_: Any) -> None:
    from paddle_portal import portal

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError(f"unexpected, with {API_KEY} and https://customer-portal.paddle.com/x?token={PORTAL_TOKEN}")

    monkeypatch.setattr(portal, "open_portal_session", broken)


def setting(name: str, value: str) -> Callable[..., None]:
    return lambda monkeypatch, **_: monkeypatch.setenv(name, value)


FAILURES = {
    "paddle-400": (
        paddle_answers(
            400, paddle_error("bad_request", errors=[{"field": "subscription_ids", "message": "not found"}])
        ),
        "InvalidRequestError",
    ),
    "paddle-404": (paddle_answers(404, paddle_error("entity_not_found")), "CustomerNotFoundError"),
    "paddle-429-past-the-deadline": (
        paddle_answers(429, paddle_error("too_many_requests"), {"Retry-After": "30"}),
        "RateLimitedError",
    ),
    "paddle-500": (paddle_answers(500, paddle_error("internal_error", type_="api_error")), "UpstreamError"),
    "paddle-502-html": (
        paddle_answers(502, b"<html>502 Bad Gateway</html>", {"Content-Type": "text/html"}),
        "UpstreamError",
    ),
    "link-on-a-host-not-allowed": (
        lambda paddle, **_: paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,), host="https://portal.evil.example"),
        "UpstreamError",
    ),
    "no-time-left": (lambda context, **_: setattr(context, "remaining_ms", 1_100), "UpstreamTimeoutError"),
    "paddle-403-key-rejected": (
        paddle_answers(403, paddle_error("invalid_token", f"Token {API_KEY} is revoked")),
        "ConfigurationError",
    ),
    "secret-missing": (setting("PADDLE_API_KEY_SECRET_ID", "paddle-portal/does-not-exist"), "ConfigurationError"),
    "bad-setting": (setting("PADDLE_ENVIRONMENT", "live"), "ConfigurationError"),
    "unexpected": (unexpected_failure, "InternalError"),
}


@pytest.mark.usefixtures("fast_backoff")
@pytest.mark.parametrize(("arrange", "error_type"), list(FAILURES.values()), ids=list(FAILURES))
def test_failures_raise_typed_errors_without_secrets(arrange, error_type, invoke, paddle, aws, context, monkeypatch):
    # Given
    arrange(paddle=paddle, context=context, monkeypatch=monkeypatch)

    # When
    with pytest.raises(errors.PortalError) as raised:
        invoke(PAYLOAD)

    # Then the documented class, from the public error module, tells the invoker what happened, and no more
    assert type(raised.value) is getattr(errors, error_type)
    for text in (str(raised.value), repr(raised.value)):
        for secret in (API_KEY, "pdl_", PORTAL_TOKEN, "customer-portal.paddle.com", "127.0.0.1", "does-not-exist"):
            assert secret not in text
    if error_type == "RateLimitedError":
        assert raised.value.retry_after == 30
    if error_type == "InvalidRequestError":  # Paddle's own code and fields reach the invoker
        assert raised.value.code == "bad_request"
        assert [(e.field, e.message) for e in raised.value.errors] == [("subscription_ids", "not found")]
