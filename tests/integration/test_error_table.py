"""The contract's error table through the real handler, one row per way a request fails where no other test shows it:
status, code, Paddle's envelope, `Cache-Control: no-store`, 5xx that do not reveal their cause; and the same failures
raised to a direct invoker as the documented class (`errorType`), its message carrying no secret, link or cause.
(401/403: the events files and the authorization matrix; 413: tests/security; 429, retries and an unreachable or
rejecting Paddle: test_faults.py; which error becomes which answer: tests/unit.)"""

from __future__ import annotations

from typing import Any

import pytest

from paddle_portal import errors
from tests.events import BROWSER_ACCEPT, route_event
from tests.integration.checks import assert_error, assert_no_secrets
from tests.support import API_KEY, CUSTOMER_ID, SECRET_ID, paddle_error


def nothing(**_: Any) -> None:
    pass


def paddle_answers(status: int, code: str, **error: Any) -> Any:
    return lambda paddle, **_: paddle.answers(status, paddle_error(code, **error))


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
    return route_event("http_api", "iam_post", body=document)


POST = body(None)
LOOKALIKE = "https://customer-portal.paddle.com.evil.example"
# id: (event, status, code, arrange, Paddle called, texts a 500's detail must not hold, the direct invoker's class)
ROWS = {
    "body-not-json": (body("{not json"), 400, "invalid_json", nothing, False, (), None),
    "field-invalid": (body({"subscription_ids": ["sub_bad"]}), 400, "invalid_field", nothing, False, (), None),
    "paddle-404": (POST, 404, "not_found", paddle_answers(404, "entity_not_found"), True, (), "CustomerNotFoundError"),
    "paddle-400": (
        POST,
        400,
        "bad_request",
        paddle_answers(400, "bad_request", errors=[{"field": "x", "message": "y"}]),
        True,
        (),
        "InvalidRequestError",
    ),
    "portal-link-on-host-not-allowed": (
        route_event("http_api", "iam_get", query="", accept=BROWSER_ACCEPT),
        502,
        "bad_gateway",
        lambda paddle, **_: paddle.creates_session(host=LOOKALIKE),
        True,
        (),
        "UpstreamError",
    ),
    "deadline": (POST, 504, "gateway_timeout", no_time_left, False, (), "UpstreamTimeoutError"),
    "secret-missing": (
        POST,
        500,
        "configuration_error",
        secret(None),
        False,
        ("secret", SECRET_ID, "ResourceNotFound"),
        "ConfigurationError",
    ),
    "secret-malformed": (
        POST,
        500,
        "configuration_error",
        secret('{"api_key": '),
        False,
        ("secret", "JSON"),
        "ConfigurationError",
    ),
    "unexpected": (POST, 500, "internal_error", unexpected, False, ("KeyError", "unexpected failure"), "InternalError"),
}


@pytest.mark.parametrize(
    ("event", "status", "code", "arrange", "called", "private"), [row[:-1] for row in ROWS.values()], ids=list(ROWS)
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


@pytest.mark.parametrize("name", [name for name, row in ROWS.items() if row[-1]])
def test_direct_invokers_get_the_documented_class_and_no_secret(name, invoke, paddle, aws, context, monkeypatch):
    _, _, _, arrange, _, private, error_type = ROWS[name]
    arrange(paddle=paddle, aws=aws, context=context, monkeypatch=monkeypatch)

    with pytest.raises(errors.PortalError) as raised:
        invoke({"customer_id": CUSTOMER_ID})

    # The documented class, from the public error module, tells the invoker what happened, and no more
    assert type(raised.value) is getattr(errors, error_type)
    text = f"{raised.value} {raised.value!r}"
    assert_no_secrets(text)
    assert not any(secret.lower() in text.lower() for secret in (*private, "127.0.0.1", "evil"))
    if error_type == "InvalidRequestError":  # Paddle's own code and fields reach the invoker
        assert (raised.value.code, [(e.field, e.message) for e in raised.value.errors]) == ("bad_request", [("x", "y")])
