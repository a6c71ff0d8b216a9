"""The API key read through the AWS Parameters and Secrets Lambda Extension, with boto3 as the fallback.

A pytest-httpserver on 127.0.0.1 stands in for the extension's local API (GET /secretsmanager/get)."""

from __future__ import annotations

import base64
import json
import socket
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from paddle_portal.secrets import ExtensionSecretReader, secret_reader
from paddle_portal.settings import settings_from_env
from tests.support import API_KEY, SECRET_ID


class FallbackCalls:
    """A stand-in for the boto3 reader that records how it was called."""

    def __init__(self, value: object = "fallback-value") -> None:
        self.calls: list[tuple[str, int, bool]] = []
        self.value = value

    def __call__(self, secret_id: str, max_age: int, force_fetch: bool) -> object:
        self.calls.append((secret_id, max_age, force_fetch))
        return self.value


def answer(secret: dict[str, Any]) -> str:
    return json.dumps(
        {
            "ARN": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET_ID}",
            "Name": SECRET_ID,
            "VersionStages": ["AWSCURRENT"],
            **secret,
        }
    )


def test_reads_the_secret_from_the_extension_with_the_session_token(httpserver: HTTPServer) -> None:
    # Given the extension holds the secret (tests/conftest.py sets AWS_SESSION_TOKEN=testing)
    httpserver.expect_request(
        "/secretsmanager/get",
        query_string={"secretId": SECRET_ID},
        headers={"X-Aws-Parameters-Secrets-Token": "testing"},
    ).respond_with_data(answer({"SecretString": json.dumps({"api_key": API_KEY})}))
    fallback = FallbackCalls()
    reader = ExtensionSecretReader(httpserver.port, fallback)

    # When the key is read twice within max_age
    first = reader(SECRET_ID, 300, False)
    second = reader(SECRET_ID, 300, False)

    # Then the extension was asked once, boto3 never
    assert first == second == json.dumps({"api_key": API_KEY})
    assert len(httpserver.log) == 1
    assert fallback.calls == []


def test_binary_secrets_are_decoded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/secretsmanager/get").respond_with_data(
        answer({"SecretBinary": base64.b64encode(API_KEY.encode()).decode()})
    )
    assert ExtensionSecretReader(httpserver.port, FallbackCalls())(SECRET_ID, 300, False) == API_KEY.encode()


def test_an_expired_copy_is_read_again(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/secretsmanager/get").respond_with_data(answer({"SecretString": API_KEY}))
    now = [1000.0]
    reader = ExtensionSecretReader(httpserver.port, FallbackCalls(), clock=lambda: now[0])

    reader(SECRET_ID, 300, False)
    now[0] += 301
    reader(SECRET_ID, 300, False)

    assert len(httpserver.log) == 2


@pytest.mark.parametrize("status", [400, 500], ids=["secret-refused", "extension-error"])
def test_an_extension_error_falls_back_to_boto3(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/secretsmanager/get").respond_with_data("AccessDeniedException", status=status)
    fallback = FallbackCalls()

    value = ExtensionSecretReader(httpserver.port, fallback)(SECRET_ID, 300, False)

    assert value == "fallback-value"
    assert fallback.calls == [(SECRET_ID, 300, False)]


def test_no_extension_listening_falls_back_to_boto3() -> None:
    with socket.socket() as probe:  # a port nothing listens on (the function deployed without the extension layer)
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    fallback = FallbackCalls()
    assert ExtensionSecretReader(closed_port, fallback)(SECRET_ID, 300, False) == "fallback-value"
    assert fallback.calls == [(SECRET_ID, 300, False)]


def test_a_forced_read_bypasses_the_extension_and_its_cache(httpserver: HTTPServer) -> None:
    # The extension would answer from its own cache with the key Paddle just rejected.
    old_key = answer({"SecretString": "old-key"})  # pragma: allowlist secret - a fake
    httpserver.expect_request("/secretsmanager/get").respond_with_data(old_key)
    fallback = FallbackCalls("rotated-key")
    reader = ExtensionSecretReader(httpserver.port, fallback)
    reader(SECRET_ID, 300, False)

    assert reader(SECRET_ID, 300, True) == "rotated-key"
    assert reader(SECRET_ID, 300, False) == "rotated-key"  # the re-read value is what the cache now holds
    assert len(httpserver.log) == 1
    assert fallback.calls == [(SECRET_ID, 300, True)]


def test_the_extension_is_used_only_when_its_port_is_configured() -> None:
    assert not isinstance(secret_reader(None), ExtensionSecretReader)
    assert isinstance(secret_reader(2773), ExtensionSecretReader)
    configured = {"PADDLE_API_KEY_SECRET_ID": SECRET_ID, "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": "2773"}
    settings = settings_from_env(configured)
    assert settings.secrets_extension_port == 2773
    assert settings_from_env({"PADDLE_API_KEY_SECRET_ID": SECRET_ID}).secrets_extension_port is None
