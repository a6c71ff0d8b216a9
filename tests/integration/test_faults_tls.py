"""TLS towards Paddle: certificates are verified, and one prebuilt SSL context serves every connection of the pool.

A `FaultServer` speaks TLS with a certificate from a throwaway CA; the function trusts that CA only when
`SSL_CERT_FILE` names it (OpenSSL's default verify paths, which `ssl.create_default_context()` loads).
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.events import load_event
from tests.faultserver import FaultServer, Reply, TlsFiles, make_tls_files
from tests.support import CUSTOMER_ID, SUBSCRIPTION_ID, LambdaContext, SecretsManagerCalls, portal_session

OK = Reply.json(201, portal_session(CUSTOMER_ID, (SUBSCRIPTION_ID,)))
BUDGET = 0.6


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FaultServer, TlsFiles]]:
    files = make_tls_files(tmp_path)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("PADDLE_REQUEST_BUDGET_SECONDS", str(BUDGET))
    with FaultServer(default=OK, tls=files.server_context) as server:
        monkeypatch.setenv("PADDLE_API_BASE_URL", server.url)
        yield server, files


@pytest.fixture
def client_contexts(monkeypatch: pytest.MonkeyPatch) -> list[ssl.SSLContext]:
    """Every SSL context the client side wraps a socket with (the server's own handshakes are left out)."""
    used: list[ssl.SSLContext] = []
    real = ssl.SSLContext.wrap_socket

    def spy(self: ssl.SSLContext, sock: Any, *args: Any, server_side: bool = False, **kwargs: Any) -> Any:
        if not server_side:
            used.append(self)
        return real(self, sock, *args, server_side=server_side, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "wrap_socket", spy)
    return used


def post(context: LambdaContext) -> tuple[int, Any, float]:
    from paddle_portal.app import lambda_handler

    started = time.monotonic()
    response = lambda_handler(load_event("http_api/post_portal_sessions_iam.json"), context)
    return response["statusCode"], json.loads(response["body"]), time.monotonic() - started


def test_pool_context_verifies_certificates() -> None:
    from paddle_portal.paddle.client import new_pool

    context = new_pool().connection_pool_kw["ssl_context"]

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_certificate_from_an_unknown_ca_is_refused_once(aws: SecretsManagerCalls, tls_server, context) -> None:
    server, _ = tls_server  # SSL_CERT_FILE unset: the system store does not know the test CA

    status, body, elapsed = post(context)

    assert (status, body["error"]["code"]) == (502, "bad_gateway")
    assert server.requests == []  # nothing, not even the Authorization header, went over the unverified channel
    assert server.connections == 1  # a certificate that fails will fail again: no retry
    assert elapsed <= BUDGET + 0.3
    assert aws.get_secret_value == 1


def test_certificate_for_another_host_is_refused_once(aws: SecretsManagerCalls, tmp_path, monkeypatch, context) -> None:
    files = make_tls_files(tmp_path, names=("api.paddle.com",))
    monkeypatch.setenv("SSL_CERT_FILE", str(files.ca_cert))  # trusted CA, wrong name
    with FaultServer(default=OK, tls=files.server_context) as server:
        monkeypatch.setenv("PADDLE_API_BASE_URL", server.url)

        status, body, _ = post(context)

    assert (status, body["error"]["code"]) == (502, "bad_gateway")
    assert server.requests == []
    assert server.connections == 1
    assert aws.get_secret_value == 1


def test_one_prebuilt_context_serves_every_tls_connection(
    aws: SecretsManagerCalls, tls_server, monkeypatch, client_contexts, context
) -> None:
    from paddle_portal import wiring

    server, files = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(files.ca_cert))
    server.script(*[OK.with_(close_after=True)] * 3)  # three answers that each end their connection

    outcomes = [post(context) for _ in range(6)]

    assert [status for status, _, _ in outcomes] == [201] * 6
    assert server.connections == 4  # three closed by the server, then one kept alive for the last three calls
    assert [r.connection for r in server.requests] == [1, 2, 3, 4, 4, 4]
    pool_context = wiring.pool().connection_pool_kw["ssl_context"]
    assert len(client_contexts) == 4  # one handshake per connection...
    assert all(used is pool_context for used in client_contexts)  # ...each with the pool's one context
    assert aws.get_secret_value == 1
