"""Fixtures of the security tier (helpers live in `tests/security/cases.py`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.events import SIGNING_SECRET, SIGNING_SECRET_ID
from tests.security.cases import SESSION_PATH, respond_as_paddle
from tests.support import API_KEY, SECRET_ID, PaddleStub, SecretsManagerCalls


@pytest.fixture
def paddle_any(paddle: PaddleStub) -> PaddleStub:
    """Paddle answering a session for every customer it is asked about; `paddle.requests` tells which."""
    paddle.server.expect_request(SESSION_PATH, method="POST").respond_with_handler(respond_as_paddle)
    return paddle


class SecretReads(SecretsManagerCalls):
    """The shared counter, plus which secret each GetSecretValue read (the signed-link route may read its signing
    keys before refusing a link; it must never read the Paddle API key for a refused request)."""

    secret_ids: list[str]

    def reset(self) -> None:
        super().reset()
        self.secret_ids.clear()

    @property
    def api_key_reads(self) -> int:
        return self.secret_ids.count(SECRET_ID)


@pytest.fixture(scope="module")
def _aws_for_module() -> Iterator[SecretReads]:
    """The shared `aws` fixture's fake AWS, built once per module: creating a boto3 client costs ~55 ms, and this
    tier runs several hundred cases. Tests must not change the secrets (point the secret ids elsewhere instead)."""
    from unittest import mock

    from botocore.client import BaseClient
    from moto import mock_aws

    with mock_aws(), SecretReads.spy() as calls:
        calls.__class__ = SecretReads
        calls.secret_ids = []
        counting = BaseClient._make_api_call

        def recording(client: BaseClient, operation: str, params: Any) -> Any:
            if operation == "GetSecretValue":
                calls.secret_ids.append(params.get("SecretId"))
            return counting(client, operation, params)

        with mock.patch.object(BaseClient, "_make_api_call", recording):
            calls.client.create_secret(Name=SECRET_ID, SecretString=json.dumps({"api_key": API_KEY}))
            calls.client.create_secret(Name=SIGNING_SECRET_ID, SecretString=SIGNING_SECRET)
            yield calls


@pytest.fixture
def aws(_aws_for_module: SecretReads) -> SecretReads:
    """Same contract as tests/conftest.py's `aws` (moto secret + GetSecretValue counter), counter zeroed per test,
    plus `api_key_reads`."""
    _aws_for_module.reset()
    return _aws_for_module


@pytest.fixture(autouse=True)
def _signing_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Signed portal links on, with the test keys."""
    monkeypatch.setenv("PORTAL_LINK_SIGNING_SECRET_ID", SIGNING_SECRET_ID)
