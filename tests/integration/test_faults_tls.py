"""TLS towards Paddle: certificates are verified, and one prebuilt SSL context serves every connection of the pool.

A `FaultServer` speaks TLS with a certificate from a throwaway CA; the function trusts that CA only when
`SSL_CERT_FILE` names it (OpenSSL's default verify paths, which `ssl.create_default_context()` loads).
"""

from __future__ import annotations

import json
import ssl
from typing import Any

import pytest

from tests.events import load_event
from tests.faultserver import OK, FaultServer, make_tls_files
from tests.support import LambdaContext


def post(context: LambdaContext) -> tuple[int, Any]:
    from paddle_portal.app import lambda_handler

    response = lambda_handler(load_event("http_api/post_portal_sessions_iam.json"), context)
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture(autouse=True)
def system_ca_store_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@pytest.mark.parametrize(
    ("names", "trusted"),
    [
        pytest.param(("localhost", "127.0.0.1"), False, id="unknown-ca"),
        pytest.param(("api.paddle.com",), True, id="trusted-ca-other-host"),
    ],
)
def test_a_certificate_that_does_not_verify_is_refused_once(aws, tmp_path, monkeypatch, context, names, trusted):
    files = make_tls_files(tmp_path, names=names)
    if trusted:
        monkeypatch.setenv("SSL_CERT_FILE", str(files.ca_cert))
    with FaultServer(default=OK, tls=files.server_context) as server:
        monkeypatch.setenv("PADDLE_API_BASE_URL", server.url)

        status, body = post(context)

    assert (status, body["error"]["code"]) == (502, "bad_gateway")
    assert server.requests == []  # nothing, not even the Authorization header, went over the unverified channel
    assert server.connections == 1  # a certificate that fails will fail again: no retry


def test_one_prebuilt_context_serves_every_tls_connection(aws, tmp_path, monkeypatch, context):
    from paddle_portal import wiring

    # Given a trusted server that ends its first three connections after one answer each
    files = make_tls_files(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(files.ca_cert))
    used: list[ssl.SSLContext] = []  # every context the client side wraps a socket with
    real_wrap = ssl.SSLContext.wrap_socket

    def spy(self: ssl.SSLContext, sock: Any, *args: Any, server_side: bool = False, **kwargs: Any) -> Any:
        if not server_side:
            used.append(self)
        return real_wrap(self, sock, *args, server_side=server_side, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "wrap_socket", spy)
    with FaultServer(default=OK, tls=files.server_context) as server:
        monkeypatch.setenv("PADDLE_API_BASE_URL", server.url)
        server.script(*[OK.with_(close_after=True)] * 3)

        # When six calls go out (each after the server's close reached the client)
        statuses = []
        for call in range(6):
            statuses.append(post(context)[0])
            server.wait_closed(min(call + 1, 3))

    # Then four connections, one handshake each, each with the pool's one context
    assert statuses == [201] * 6
    assert [r.connection for r in server.requests] == [1, 2, 3, 4, 4, 4]
    assert len(used) == 4
    assert all(one is wiring.pool().connection_pool_kw["ssl_context"] for one in used)
    assert aws.get_secret_value == 1
