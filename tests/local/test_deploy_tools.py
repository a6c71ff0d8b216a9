"""make put-key and make check-deploy (tools/stack.py) against the local run: the key stored without echo, and each
way a stored key can be wrong named in one line by the function's own check (`{"operation": "check_setup"}`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.server import FAKE_API_KEY, REGION, SECRET_NAME, GatewayServer, serve
from tests.support import LIVE_API_KEY, ROTATED_API_KEY
from tools.stack import StackInfo, check, put_key


@pytest.fixture
def run(restore_environ: None) -> Iterator[GatewayServer]:
    server = serve(port=0)
    yield server
    server.close()


@pytest.fixture
def stack(run: GatewayServer) -> StackInfo:
    assert run.lambda_api is not None
    return StackInfo("paddle-portal", SECRET_NAME, "PortalFunction", "sandbox", REGION)


def clients(run: GatewayServer) -> tuple[Any, Any]:
    assert run.lambda_api is not None
    return boto3.client("secretsmanager", region_name=REGION), boto3.client(
        "lambda", region_name=REGION, endpoint_url=run.lambda_api.url
    )


def stored(secrets: Any) -> str:
    return str(json.loads(secrets.get_secret_value(SecretId=SECRET_NAME)["SecretString"])["api_key"])


def test_put_key_stores_the_key_asked_for_and_checks_the_stack(
    run: GatewayServer, stack: StackInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets, lambda_client = clients(run)
    secrets.put_secret_value(SecretId=SECRET_NAME, SecretString="REPLACE_WITH_PADDLE_API_KEY")  # a new stack

    status = put_key(stack, secrets, lambda_client, read_key=lambda prompt: f" {FAKE_API_KEY}\n")

    out = capsys.readouterr().out
    assert status == 0, out
    assert stored(secrets) == FAKE_API_KEY
    assert out.splitlines()[-1].startswith("OK: paddle-portal reads its key, a key of Paddle's sandbox")
    assert FAKE_API_KEY not in out


def test_put_key_refuses_a_key_of_the_other_environment_before_storing_it(
    run: GatewayServer, stack: StackInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets, lambda_client = clients(run)

    status = put_key(stack, secrets, lambda_client, read_key=lambda prompt: LIVE_API_KEY)

    assert status == 1
    assert capsys.readouterr().out.strip() == (
        "That is a live key, and the stack calls Paddle's sandbox (PaddleEnvironment): nothing stored."
    )
    assert stored(secrets) == FAKE_API_KEY


def empty(run: GatewayServer, secrets: Any) -> None:
    secrets.put_secret_value(SecretId=SECRET_NAME, SecretString=" ")


def live_key_on_a_sandbox_stack(run: GatewayServer, secrets: Any) -> None:
    os.environ["PADDLE_ENVIRONMENT"] = "sandbox"
    secrets.put_secret_value(SecretId=SECRET_NAME, SecretString=json.dumps({"api_key": LIVE_API_KEY}))


def without_the_portal_permission(run: GatewayServer, secrets: Any) -> None:
    assert run.paddle_fake is not None
    run.paddle_fake.permissions.discard("customer_portal_session.write")


def rejected_by_paddle(run: GatewayServer, secrets: Any) -> None:
    secrets.put_secret_value(SecretId=SECRET_NAME, SecretString=json.dumps({"api_key": ROTATED_API_KEY}))


@pytest.mark.parametrize(
    ("wrong", "line"),
    [
        pytest.param(empty, "The Paddle API key secret is empty: store it with make put-key.", id="empty"),
        pytest.param(
            live_key_on_a_sandbox_stack,
            "The key is a live key (pdl_live_...) but this stack calls Paddle's sandbox (PaddleEnvironment=sandbox)",
            id="live-key-on-a-sandbox-stack",
        ),
        pytest.param(
            without_the_portal_permission,
            "The key lacks the customer_portal_session.write permission: add it in Paddle > Developer Tools",
            id="no-portal-permission",
        ),
        pytest.param(rejected_by_paddle, "Paddle refuses the key (invalid_token)", id="rejected"),
    ],
)
def test_check_names_what_is_wrong_with_the_stored_key_in_one_line(
    run: GatewayServer, stack: StackInfo, capsys: pytest.CaptureFixture[str], wrong: Any, line: str
) -> None:
    secrets, lambda_client = clients(run)
    wrong(run, secrets)

    status = check(stack, lambda_client)

    (first, *rest) = capsys.readouterr().out.splitlines()
    assert status == 1
    assert first.startswith(line)
    assert rest == []  # one line, and the smoke check (no Paddle, no API key) still passes
