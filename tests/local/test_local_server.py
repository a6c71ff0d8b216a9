"""`make run`'s own pieces, in-process (local.server on free ports): a request through moto's secret and the Paddle
fake, the printed samples working as printed, the real-Paddle mode, the index at the API root, and a port clash that
names the make variable to set."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import urllib3

from local import server as local_server
from local.cognito import sign_in
from tests.support import CUSTOMER_ID, SUBSCRIPTION_ID, sigv4_headers


@pytest.fixture
def api(restore_environ: None) -> Iterator[local_server.GatewayServer]:
    running = local_server.serve(port=0)
    yield running
    running.close()


def sigv4(method: str, url: str, body: bytes = b"") -> dict[str, str]:
    """Signed as a backend signs, with the local credentials the gateway verifies against."""
    return sigv4_headers(method, url, body, local_server.SAMPLE_ACCESS_KEY, local_server.SAMPLE_SECRET_KEY)


def bearer(api: local_server.GatewayServer, email: str) -> dict[str, str]:
    """A demo user's real ID token from the run's user pool."""
    assert api.user_pool is not None
    tokens = sign_in(api.user_pool.endpoint, api.user_pool.client_id, email, local_server.CLAIM_USER.password)
    return {"Authorization": f"Bearer {tokens['IdToken']}"}


def test_requests_reach_the_paddle_fake_with_the_key_from_moto(api: local_server.GatewayServer) -> None:
    url = f"{api.url}/customers/{CUSTOMER_ID}/portal-sessions"
    body = b'{"subscription_ids": ["%s"]}' % SUBSCRIPTION_ID.encode()

    iam = urllib3.request("POST", url, body=body, headers=sigv4("POST", url, body))
    jwt = urllib3.request("POST", f"{api.url}/portal-sessions", headers=bearer(api, local_server.CLAIM_USER.email))

    assert (iam.status, iam.headers["Cache-Control"], jwt.status) == (201, "no-store", 201)
    assert api.paddle_fake is not None
    assert [(r.path, json.loads(r.body or b"{}")) for r in api.paddle_fake.requests] == [
        (f"/customers/{CUSTOMER_ID}/portal-sessions", {"subscription_ids": [SUBSCRIPTION_ID]}),
        (f"/customers/{local_server.CLAIM_USER.customer_id}/portal-sessions", {}),
    ]
    assert {r.headers["authorization"] for r in api.paddle_fake.requests} == {f"Bearer {local_server.FAKE_API_KEY}"}


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash")
def test_the_printed_samples_work_as_printed(api: local_server.GatewayServer) -> None:
    # Given the banner's commands, unchanged: the sign-in line that sets $TOKEN and every curl line
    lines = [line for line in local_server.banner(api, os.environ).splitlines() if line.startswith(("curl ", "TOKEN="))]
    script = "\n".join(
        f"{line} -sS -o /dev/null -w '%{{http_code}}\\n'" if line[:5] == "curl " else line for line in lines
    )

    # When a shell runs them from the repository root, as a user pastes them
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60,  # noqa: S603, S607
                         check=False, cwd=Path(__file__).resolve().parents[2])  # fmt: skip

    # Then each answers as its comment says: IAM JSON, IAM redirect, JWT JSON twice, JWT link, link minted, followed
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["201", "302", "201", "200", "201", "201", "302"]


def test_the_api_root_answers_an_index(api: local_server.GatewayServer) -> None:
    index = urllib3.request("GET", f"{api.url}/").json()

    assert api.demo_page is not None
    assert index["demo_page"] == f"{api.demo_page.url}/"
    assert "POST /portal-links (JWT)" in index["routes"]


def test_with_paddle_api_key_the_secret_holds_it_and_no_fake_runs(
    restore_environ: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "pdl_sdbx_apikey_01gtgztp8f4kek3yd4g1wrksa3_FAKEFAKEFAKEFAKEFAKE_KEY"  # fake; nothing is called
    monkeypatch.setenv("PADDLE_API_KEY", key)
    seen: list[str | None] = []

    running = local_server.serve(port=0, handler=lambda event, context: seen.append(os.environ.get("PADDLE_API_KEY")))
    try:
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        secret = secrets.get_secret_value(SecretId=local_server.SECRET_NAME)
        text = local_server.banner(running, os.environ)
        urllib3.request("GET", f"{running.url}/links/portal?v=1")  # no authorizer: reaches the handler
    finally:
        running.close()

    assert json.loads(secret["SecretString"]) == {"api_key": key}
    assert (running.paddle_fake, running.portal_standin) == (None, None)
    assert "PADDLE_API_BASE_URL" not in os.environ  # the handler picks the real (sandbox) API itself
    assert seen == [None]  # the key reached the handler only through the secret
    assert key not in text
    assert "REAL Paddle API" in text


@pytest.mark.parametrize("taken", list(local_server.DEFAULT_PORTS))
def test_a_port_clash_names_the_make_variable_to_set(
    taken: str, restore_environ: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # main() installs Ctrl-C handlers: not in this process
    result: list[int] = []
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        options = {what: "--" + name.lower().replace("_", "-") for what, name in local_server.MAKE_VARIABLES.items()}
        args = [arg for what, option in options.items() for arg in (option, str(port if what == taken else 0))]
        main = threading.Thread(target=lambda: result.append(local_server.main(args)), daemon=True)
        main.start()
        main.join(timeout=60)  # a run that started anyway would serve forever: no result

    error = capsys.readouterr().err
    assert result == [1]
    assert f"127.0.0.1:{port} for the {taken}" in error
    assert f"make run {local_server.MAKE_VARIABLES[taken]}=<free port>" in error
