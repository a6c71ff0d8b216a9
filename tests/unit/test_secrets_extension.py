"""The API key read through the AWS Parameters and Secrets Lambda Extension, with boto3 as the fallback.

A pytest-httpserver on 127.0.0.1 stands in for the extension's local API (GET /secretsmanager/get)."""

from __future__ import annotations

import base64
import json
import socket
from typing import Any

import pytest

from paddle_portal.secrets import ExtensionSecretReader, PowertoolsSecretReader, secret_reader
from tests.support import API_KEY, SECRET_ID


class Fallback:
    """Stands in for the boto3 reader; records how it was called."""

    def __init__(self, value: object = "fallback-value") -> None:
        self.calls: list[tuple[str, int, bool]] = []
        self.value = value

    def __call__(self, secret_id: str, max_age: int, force_fetch: bool) -> object:
        self.calls.append((secret_id, max_age, force_fetch))
        return self.value


def answer(**secret: Any) -> str:
    return json.dumps({"ARN": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET_ID}", **secret})


def test_the_extension_is_asked_with_the_session_token_once_per_max_age(httpserver):
    # Given the extension holds the secret (tests/conftest.py sets AWS_SESSION_TOKEN=testing)
    httpserver.expect_request(
        "/secretsmanager/get",
        query_string={"secretId": SECRET_ID},
        headers={"X-Aws-Parameters-Secrets-Token": "testing"},
    ).respond_with_data(answer(SecretString=API_KEY))
    now = [1000.0]
    fallback = Fallback()
    reader = ExtensionSecretReader(httpserver.port, fallback, clock=lambda: now[0])

    # When the key is read twice within max_age, then once after it
    values = [reader(SECRET_ID, 300, False), reader(SECRET_ID, 300, False)]
    now[0] += 301
    values.append(reader(SECRET_ID, 300, False))

    # Then the extension was asked twice, boto3 never
    assert values == [API_KEY] * 3
    assert (len(httpserver.log), fallback.calls) == (2, [])


def test_binary_secrets_are_decoded(httpserver):
    httpserver.expect_request("/secretsmanager/get").respond_with_data(
        answer(SecretBinary=base64.b64encode(API_KEY.encode()).decode())
    )

    assert ExtensionSecretReader(httpserver.port, Fallback())(SECRET_ID, 300, False) == API_KEY.encode()


@pytest.mark.parametrize("status", [400, 500, None], ids=["secret-refused", "extension-error", "nothing-listening"])
def test_without_the_secret_from_the_extension_boto3_reads_it(httpserver, status):
    port = httpserver.port
    if status is None:  # the function deployed without the extension layer
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    else:
        httpserver.expect_request("/secretsmanager/get").respond_with_data("AccessDeniedException", status=status)
    fallback = Fallback()

    assert ExtensionSecretReader(port, fallback)(SECRET_ID, 300, False) == "fallback-value"
    assert fallback.calls == [(SECRET_ID, 300, False)]


def test_a_forced_read_bypasses_the_extension_and_its_cache(httpserver):
    # Given a copy read through the extension, which would answer from its own cache with the key Paddle just rejected
    httpserver.expect_request("/secretsmanager/get").respond_with_data(answer(SecretString="old-key"))
    fallback = Fallback("rotated-key")
    reader = ExtensionSecretReader(httpserver.port, fallback)
    reader(SECRET_ID, 300, False)

    # When the key is re-read by force, then read again
    assert reader(SECRET_ID, 300, True) == "rotated-key"
    assert reader(SECRET_ID, 300, False) == "rotated-key"  # the re-read value is what the cache now holds

    # Then boto3 did the forced read; the extension was asked only the first time
    assert (len(httpserver.log), fallback.calls) == (1, [(SECRET_ID, 300, True)])


def test_the_extension_is_used_only_when_its_port_is_configured():
    assert isinstance(secret_reader(None), PowertoolsSecretReader)
    assert isinstance(secret_reader(2773), ExtensionSecretReader)
