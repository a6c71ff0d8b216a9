"""`make run` end to end, in-process: local.server on port 0 with the real handler, moto and the Paddle fake."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.cognito import sign_in
from local.server import (
    CLAIM_USER,
    EMAIL_USER,
    FAKE_API_KEY,
    FAKE_LINK_KEYS,
    LINK_SECRET_NAME,
    SAMPLE_ACCESS_KEY,
    SAMPLE_SECRET_KEY,
    SECRET_NAME,
    UNKNOWN_CUSTOMER_ID,
    GatewayServer,
    banner,
    sample_link,
    serve,
)
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, SUBSCRIPTION_ID


def standin_portal(api: GatewayServer) -> str:
    """Where the local run's portal links point: its own stand-in of Paddle's portal."""
    assert api.portal_standin is not None
    return f"{api.portal_standin.url}/cpl_"


@pytest.fixture
def api(restore_environ: None) -> Iterator[GatewayServer]:
    server = serve(port=0)
    yield server
    server.close()


def sigv4(method: str, url: str, body: bytes = b"") -> dict[str, str]:
    """Signed as a backend signs, with the local credentials the gateway verifies against."""
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(SAMPLE_ACCESS_KEY, SAMPLE_SECRET_KEY), "execute-api", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def bearer(api: GatewayServer, email: str) -> dict[str, str]:
    """A demo user's real ID token from the embedded user pool."""
    assert api.user_pool is not None
    tokens = sign_in(api.user_pool.endpoint, api.user_pool.client_id, email, CLAIM_USER.password)
    return {"Authorization": f"Bearer {tokens['IdToken']}"}


def test_iam_post_creates_a_session_through_moto_and_the_fake(api: GatewayServer) -> None:
    url = f"{api.url}/customers/{CUSTOMER_ID}/portal-sessions"
    body = json.dumps({"subscription_ids": [SUBSCRIPTION_ID]}).encode()

    response = urllib3.request("POST", url, body=body, headers=sigv4("POST", url, body))

    assert response.status == 201
    assert response.headers["Cache-Control"] == "no-store"
    session = response.json()
    assert re.fullmatch(r"cpls_[a-z\d]{26}", session["data"]["id"])
    assert session["data"]["customer_id"] == CUSTOMER_ID
    assert [s["id"] for s in session["data"]["urls"]["subscriptions"]] == [SUBSCRIPTION_ID]
    assert uuid.UUID(session["meta"]["request_id"])
    assert api.paddle_fake is not None
    (sent,) = api.paddle_fake.requests
    assert sent.path == f"/customers/{CUSTOMER_ID}/portal-sessions"
    assert sent.headers["authorization"] == f"Bearer {FAKE_API_KEY}"  # the key came out of moto's secret
    assert json.loads(sent.body) == {"subscription_ids": [SUBSCRIPTION_ID]}


def test_iam_get_redirects_to_the_deep_link(api: GatewayServer) -> None:
    url = f"{api.url}/customers/{CUSTOMER_ID}/portal?action=cancel_subscription&subscription_id={SUBSCRIPTION_ID}"

    response = urllib3.request("GET", url, headers=sigv4("GET", url), redirect=False)

    assert response.status == 302
    location = response.headers["Location"]
    assert location.startswith(standin_portal(api))
    assert f"action=cancel_subscription&subscription_id={SUBSCRIPTION_ID}&token=pga_" in location


def test_jwt_routes_take_the_customer_from_the_claim(api: GatewayServer) -> None:
    claims = bearer(api, CLAIM_USER.email)

    created = urllib3.request("POST", f"{api.url}/portal-sessions", headers=claims)
    as_json = urllib3.request("GET", f"{api.url}/portal", headers={**claims, "Accept": "application/json"})

    assert created.status == 201
    assert as_json.status == 200
    assert as_json.json()["data"]["urls"]["general"]["overview"].startswith(standin_portal(api))
    assert api.paddle_fake is not None
    assert CLAIM_USER.customer_id == CUSTOMER_ID
    assert [r.path for r in api.paddle_fake.requests] == [f"/customers/{CUSTOMER_ID}/portal-sessions"] * 2


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        pytest.param(f"/customers/{CUSTOMER_ID}/portal-sessions", 403, {"message": "Forbidden"}, id="iam-unsigned"),
        pytest.param("/portal-sessions", 401, {"message": "Unauthorized"}, id="jwt-absent"),
    ],
)
def test_the_gateway_refuses_requests_without_credentials(
    api: GatewayServer, path: str, status: int, body: dict[str, str]
) -> None:
    response = urllib3.request("POST", f"{api.url}{path}")

    assert (response.status, response.json()) == (status, body)
    assert api.paddle_fake is not None
    assert api.paddle_fake.requests == []


def test_a_verified_token_without_the_claim_is_refused_by_the_function(api: GatewayServer) -> None:
    response = urllib3.request("POST", f"{api.url}/portal-sessions", headers=bearer(api, EMAIL_USER.email))

    assert (response.status, response.json()["error"]["code"]) == (403, "forbidden")
    assert api.paddle_fake is not None
    assert api.paddle_fake.requests == []


def test_unknown_customer_and_unknown_route(api: GatewayServer) -> None:
    url = f"{api.url}/customers/{UNKNOWN_CUSTOMER_ID}/portal-sessions"

    unknown_customer = urllib3.request("POST", url, headers=sigv4("POST", url))
    unknown_route = urllib3.request("GET", f"{api.url}/customers")

    assert (unknown_customer.status, unknown_customer.json()["error"]["code"]) == (404, "not_found")
    assert (unknown_route.status, unknown_route.json()) == (404, {"message": "Not Found"})


def test_a_link_minted_here_points_here_and_opens_the_portal(api: GatewayServer) -> None:
    # Given a backend mints a link for a subscription's cancel page
    url = f"{api.url}/customers/{CUSTOMER_ID}/portal-links"
    body = json.dumps({"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID}).encode()
    minted = urllib3.request("POST", url, body=body, headers=sigv4("POST", url, body))
    assert minted.status == 201, minted.data
    link = minted.json()["data"]["url"]

    # When a browser follows it, with no credentials
    followed = urllib3.request("GET", link, headers={"Accept": "text/html"}, redirect=False)

    # Then the link pointed at this server, and it sent the browser to a fresh session's deep link
    assert link.startswith(f"{api.url}/links/portal?v=1&c={CUSTOMER_ID}&a=cancel_subscription&")
    assert os.environ["PORTAL_LINK_BASE_URL"] == api.url
    assert followed.status == 302
    assert f"action=cancel_subscription&subscription_id={SUBSCRIPTION_ID}&token=pga_" in followed.headers["Location"]
    assert api.paddle_fake is not None
    assert [r.path for r in api.paddle_fake.requests] == [f"/customers/{CUSTOMER_ID}/portal-sessions"]
    assert "pga_" not in link


def test_an_altered_link_gets_the_page_and_paddle_is_not_called(api: GatewayServer) -> None:
    link = sample_link(os.environ)
    assert link is not None
    altered = link.replace(f"c={CUSTOMER_ID}", f"c={OTHER_CUSTOMER_ID}")

    as_page = urllib3.request("GET", altered, headers={"Accept": "text/html"})
    as_json = urllib3.request("GET", altered, headers={"Accept": "application/json"})

    assert (as_page.status, as_page.headers["Content-Type"]) == (403, "text/html; charset=utf-8")
    assert (as_json.status, as_json.json()["error"]["code"]) == (403, "invalid_link")
    assert api.paddle_fake is not None
    assert api.paddle_fake.requests == []


def test_the_link_secret_is_seeded_with_the_fake_key(api: GatewayServer) -> None:
    secret = boto3.client("secretsmanager", region_name="us-east-1").get_secret_value(SecretId=LINK_SECRET_NAME)

    assert json.loads(secret["SecretString"]) == FAKE_LINK_KEYS
    assert "FAKE" in FAKE_LINK_KEYS["k1"]
    assert os.environ["PORTAL_LINK_SIGNING_SECRET_ID"] == LINK_SECRET_NAME


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash")
def test_the_printed_samples_work_as_printed(api: GatewayServer) -> None:
    # Given the banner's commands, unchanged: the sign-in line that sets $TOKEN and every curl line
    lines = [line for line in banner(api, os.environ).splitlines() if line.startswith(("curl ", "TOKEN="))]
    script = "\n".join(
        f"{line} -sS -o /dev/null -w '%{{http_code}}\\n'" if line.startswith("curl ") else line for line in lines
    )

    # When a shell runs them from the repository root, as a user pastes them
    run = subprocess.run(  # noqa: S603 - our own banner's commands
        ["bash", "-euo", "pipefail", "-c", script],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )

    # Then each answers as its comment says: IAM JSON, IAM redirect, JWT JSON twice, JWT link, link minted, followed
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["201", "302", "201", "200", "201", "201", "302"]
    assert sum(line.startswith("TOKEN=") for line in lines) == 1


def test_with_paddle_api_key_the_secret_holds_it_and_no_fake_runs(
    restore_environ: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "pdl_sdbx_apikey_01gtgztp8f4kek3yd4g1wrksa3_FAKEFAKEFAKEFAKEFAKE_KEY"  # fake; nothing is called
    monkeypatch.setenv("PADDLE_API_KEY", key)
    seen: list[str | None] = []

    server = serve(port=0, handler=lambda event, context: seen.append(os.environ.get("PADDLE_API_KEY")))
    try:
        secret = boto3.client("secretsmanager", region_name="us-east-1").get_secret_value(SecretId=SECRET_NAME)
        text = banner(server, os.environ)
        urllib3.request("GET", f"{server.url}/links/portal?v=1")  # no authorizer: reaches the handler
    finally:
        server.close()

    assert json.loads(secret["SecretString"]) == {"api_key": key}
    assert server.paddle_fake is None
    assert "PADDLE_API_BASE_URL" not in os.environ  # the handler picks the real (sandbox) API itself
    assert seen == [None]  # the key reached the handler only through the secret
    assert key not in text
    assert "REAL Paddle API" in text
    assert "sandbox key" in text
