"""Fixtures of the security tier (helpers live in `tests/security/cases.py`)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.events import SIGNING_SECRET, SIGNING_SECRET_ID
from tests.security.cases import SESSION_PATH, respond_as_paddle
from tests.support import API_KEY, SECRET_ID, PaddleStub, SecretsManagerCalls


@pytest.fixture
def paddle_any(paddle: PaddleStub) -> PaddleStub:
    """Paddle answering a session for every customer it is asked about; `paddle.requests` tells which."""
    paddle.server.expect_request(SESSION_PATH, method="POST").respond_with_handler(respond_as_paddle)
    return paddle


@pytest.fixture(scope="module")
def _aws_for_module() -> Iterator[SecretsManagerCalls]:
    """The shared `aws` fixture's fake AWS, built once per module: creating a boto3 client costs ~55 ms, and this
    tier runs several hundred cases. Tests must not change the secrets (point the secret ids elsewhere instead)."""
    from moto import mock_aws

    with mock_aws(), SecretsManagerCalls.spy() as calls:
        calls.client.create_secret(Name=SECRET_ID, SecretString=json.dumps({"api_key": API_KEY}))
        calls.client.create_secret(Name=SIGNING_SECRET_ID, SecretString=SIGNING_SECRET)
        yield calls


@pytest.fixture
def aws(_aws_for_module: SecretsManagerCalls) -> SecretsManagerCalls:
    """tests/conftest.py's `aws`, its counters zeroed per test."""
    _aws_for_module.reset()
    return _aws_for_module


@pytest.fixture(autouse=True)
def _signing_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Signed portal links on, with the test keys."""
    monkeypatch.setenv("PORTAL_LINK_SIGNING_SECRET_ID", SIGNING_SECRET_ID)
