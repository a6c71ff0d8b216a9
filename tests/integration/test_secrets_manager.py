"""The Paddle key from Secrets Manager (moto): both secret shapes work, every broken secret is a configuration
error whose cause stays in the logs, and warm invocations read the secret once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from paddle_portal.errors import ConfigurationError
from tests.events import http_api
from tests.integration.checks import assert_error, assert_session
from tests.integration.conftest import CapturedLogs
from tests.support import API_KEY, CUSTOMER_ID, LEGACY_API_KEY, LIVE_API_KEY, SECRET_ID, PaddleStub, SecretsManagerCalls

EVENT = http_api("POST", f"/customers/{CUSTOMER_ID}/portal-sessions")
PAYLOAD = {"customer_id": CUSTOMER_ID}


def store(aws: SecretsManagerCalls, **value: Any) -> None:
    aws.client.put_secret_value(SecretId=SECRET_ID, **value)
    aws.reset()


@pytest.mark.parametrize(
    ("value", "key"),
    [
        pytest.param({"SecretString": API_KEY}, API_KEY, id="bare-key"),
        pytest.param({"SecretString": json.dumps({"api_key": LIVE_API_KEY})}, LIVE_API_KEY, id="rotation-json"),
        pytest.param({"SecretString": f"{LEGACY_API_KEY}\n"}, LEGACY_API_KEY, id="legacy-key-with-newline"),
        pytest.param({"SecretBinary": API_KEY.encode()}, API_KEY, id="binary-secret"),
    ],
)
def test_secret_shapes_that_work(
    value: dict[str, Any], key: str, invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls
) -> None:
    # Given the secret holds the key in this shape
    store(aws, **value)
    sent = paddle.creates_session(CUSTOMER_ID)

    # When
    response = invoke(EVENT)

    # Then Paddle is called with exactly that key
    assert_session(response, 201, sent)
    assert paddle.requests[0].headers["Authorization"] == f"Bearer {key}"
    assert aws.get_secret_value == 1


@pytest.fixture(
    params=[
        pytest.param({"SecretString": "   "}, id="empty"),
        pytest.param({"SecretString": '{"api_key": "pdl_sdbx_apikey_'}, id="malformed-json"),
        pytest.param({"SecretString": json.dumps({"key": API_KEY})}, id="json-without-api_key"),
        pytest.param({"SecretString": json.dumps({"api_key": 12345})}, id="api_key-not-a-string"),
        pytest.param({"SecretString": f"{API_KEY} {API_KEY}"}, id="two-keys"),
        pytest.param(None, id="missing"),
    ]
)
def broken_secret(request: pytest.FixtureRequest, aws: SecretsManagerCalls, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Paddle key secret broken in each way (or the function pointed at one that does not exist)."""
    if request.param is None:
        monkeypatch.setenv("PADDLE_API_KEY_SECRET_ID", "paddle-portal/missing")
    else:
        store(aws, **request.param)


def test_broken_secret_is_a_configuration_error_over_http(
    broken_secret: None, invoke: Any, paddle: PaddleStub, logs: CapturedLogs
) -> None:
    # Given a broken or missing secret
    paddle.creates_session(CUSTOMER_ID)

    # When
    response = invoke(EVENT)

    # Then a 500 that says nothing about the cause; the logs have it; Paddle was never called
    error = assert_error(response, 500, "configuration_error")
    for revealing in ("secret", "json", "api_key", "missing", "resourcenotfound", "paddle-portal/"):
        assert revealing not in error["detail"].lower()
    assert "Paddle API key secret" in logs.text
    assert paddle.requests == []


def test_broken_secret_is_a_configuration_error_for_direct_invokers(
    broken_secret: None, invoke: Any, paddle: PaddleStub
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        invoke(PAYLOAD)

    assert API_KEY not in str(raised.value)
    assert "api_key" not in str(raised.value)
    assert paddle.requests == []


def test_warm_invocations_read_the_secret_once(invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls) -> None:
    # Given one execution environment
    paddle.creates_session(CUSTOMER_ID)

    # When it serves several invocations, HTTP and direct, within SECRET_MAX_AGE_SECONDS
    statuses = [invoke(EVENT)["statusCode"] for _ in range(3)]
    invoke(PAYLOAD)

    # Then Paddle was called each time, Secrets Manager once
    assert statuses == [201, 201, 201]
    assert len(paddle.requests) == 4
    assert aws.get_secret_value == 1


def test_max_age_zero_reads_the_secret_every_time(
    invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_MAX_AGE_SECONDS", "0")
    paddle.creates_session(CUSTOMER_ID)

    for _ in range(3):
        assert invoke(EVENT)["statusCode"] == 201

    assert aws.get_secret_value == 3


def test_key_is_read_from_the_configured_secret_only(
    invoke: Any, paddle: PaddleStub, aws: SecretsManagerCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a second secret, named by PADDLE_API_KEY_SECRET_ID as an ARN
    arn = aws.client.create_secret(Name="other/paddle-key", SecretString=LIVE_API_KEY)["ARN"]
    aws.reset()
    monkeypatch.setenv("PADDLE_API_KEY_SECRET_ID", arn)
    paddle.creates_session(CUSTOMER_ID)

    # When
    invoke(EVENT)

    # Then that secret's key is used
    assert paddle.requests[0].headers["Authorization"] == f"Bearer {LIVE_API_KEY}"
    assert aws.get_secret_value == 1
