"""Shared fixtures: a fake AWS (moto) with the Paddle key secret, a real Paddle stand-in on 127.0.0.1
(pytest-httpserver), the real handler, and the repository's own `events/` files."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

# Set before anything imports boto3 or Powertools: fake AWS, no metadata lookups, metrics and tracing offline.
os.environ.update(
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_EC2_METADATA_DISABLED="true",
    POWERTOOLS_SERVICE_NAME="paddle-portal",
    POWERTOOLS_METRICS_NAMESPACE="PaddlePortal",
    POWERTOOLS_TRACE_DISABLED="true",
)

from tests.support import (
    API_KEY,
    SECRET_ID,
    LambdaContext,
    PaddleStub,
    SecretsManagerCalls,
)

# Fails any test whose logs or output carry an API key, a portal token or link, or a signed link.
pytest_plugins = ["tests.redaction"]


@pytest.fixture(autouse=True)
def _fresh_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts cold: settings, collaborators, connection pool and secret cache are rebuilt."""
    from paddle_portal import wiring

    for name in (
        "PADDLE_API_BASE_URL",
        "PADDLE_ENVIRONMENT",
        "PORTAL_ALLOWED_HOSTS",
        "CUSTOMER_ID_CLAIM",
        "SECRET_MAX_AGE_SECONDS",
        "PADDLE_REQUEST_BUDGET_SECONDS",
        "PADDLE_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PADDLE_API_KEY_SECRET_ID", SECRET_ID)

    wiring.reset()
    yield
    wiring.reset()


@pytest.fixture
def restore_environ() -> Iterator[None]:
    """os.environ as it was before the test: `local.server.serve()` sets the local run's variables directly, as
    `make run` needs them, so a test that starts it puts them back afterwards."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def aws() -> Iterator[SecretsManagerCalls]:
    """moto's Secrets Manager holding the Paddle key as AWS managed rotation stores it; counts the calls."""
    from moto import mock_aws

    with mock_aws(), SecretsManagerCalls.spy() as calls:
        calls.client.create_secret(Name=SECRET_ID, SecretString=json.dumps({"api_key": API_KEY}))
        calls.reset()
        yield calls


@pytest.fixture
def paddle(httpserver: Any, monkeypatch: pytest.MonkeyPatch) -> PaddleStub:
    """A real HTTP server on 127.0.0.1 standing in for Paddle; the function is pointed at it."""
    monkeypatch.setenv("PADDLE_API_BASE_URL", httpserver.url_for("").rstrip("/"))
    return PaddleStub(httpserver)


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def invoke(aws: SecretsManagerCalls, paddle: PaddleStub, context: LambdaContext) -> Any:
    """Call the real handler as Lambda would."""
    from paddle_portal.app import lambda_handler

    def call(event: Any) -> Any:
        return lambda_handler(event, context)

    return call
