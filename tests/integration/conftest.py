"""Fixtures of the integration tier beyond the shared ones: captured function logs, quick retries."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.faultserver import OK, FaultServer


class CapturedLogs:
    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    @property
    def text(self) -> str:
        return self._stream.getvalue()

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    """Everything the function's Powertools Logger writes during the test (JSON lines, as in CloudWatch)."""
    from paddle_portal.observability import logger

    handler = logger.registered_handler
    stream = io.StringIO()
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        yield CapturedLogs(stream)
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real retries (every attempt reaches the stand-in), with millisecond pauses instead of 0.2 s and up."""
    from paddle_portal.paddle import retry_policy

    monkeypatch.setattr(retry_policy, "BACKOFF_INITIAL_SECONDS", 0.001)
    monkeypatch.setattr(retry_policy, "BACKOFF_MAX_SECONDS", 0.002)


@pytest.fixture(scope="session", autouse=True)
def _one_botocore_loader() -> Iterator[None]:
    """Speed only: moto gives every test a new boto3 session, and each new session re-reads botocore's JSON models
    and endpoint data (~50 ms). One shared loader per test run is what one long-lived session does anyway."""
    from unittest import mock

    import botocore.session
    from botocore.loaders import create_loader

    shared: dict[str | None, Any] = {}

    def cached(search_path_string: str | None = None) -> Any:
        if search_path_string not in shared:
            shared[search_path_string] = create_loader(search_path_string)
        return shared[search_path_string]

    with mock.patch.object(botocore.session, "create_loader", cached):
        yield


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultServer]:
    """A scriptable Paddle on 127.0.0.1 (tests/faultserver.py), answering a portal session unless told otherwise;
    the function is pointed at it."""
    with FaultServer(default=OK) as fault_server:
        monkeypatch.setenv("PADDLE_API_BASE_URL", fault_server.url)
        yield fault_server
