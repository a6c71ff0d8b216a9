"""The e2e target: a deployed stack when AWS_SAM_STACK_NAME is set, else `make run`'s local stack, in-process.

Against a stack, run the tier on its own, so that tests/conftest.py (moto's fake credentials for the offline tiers)
stays out; the stack's region and credentials come from the environment or AWS_PROFILE:

    AWS_SAM_STACK_NAME=paddle-portal AWS_REGION=us-east-1 \\
        .venv/bin/python -m pytest tests/e2e --confcutdir=tests/e2e

Without it, `make test` runs the same tests against the local run (its gateway, its Invoke API, its Paddle fake).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.target import NOBODY, STACK_VARIABLE, Target

FAKE_ACCESS_KEY = "testing"  # what tests/conftest.py puts in the environment for moto
PADDLE_PORTALS = frozenset({"https://customer-portal.paddle.com", "https://sandbox-customer-portal.paddle.com"})
# The function times out after 15 s: wait longer for its answer, and never send an invocation twice.
LAMBDA_CONFIG = Config(read_timeout=30, retries={"max_attempts": 1})


@pytest.fixture(autouse=True)
def _fresh_environment() -> None:
    """Replaces tests/conftest.py's fixture of this name: the target's environment is its own, not a unit test's."""


# Module scope: the local run mocks AWS in-process (moto) while it runs; it must stop before other tiers' tests.
@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    if os.environ.get(STACK_VARIABLE):
        yield deployed(os.environ[STACK_VARIABLE])
    else:
        yield from local()


def deployed(name: str) -> Target:
    profile = os.environ.get("AWS_PROFILE")
    # An explicit profile outranks credentials in the environment (botocore drops its environment provider).
    session = boto3.Session(profile_name=profile, region_name=os.environ.get("AWS_REGION"))
    credentials = session.get_credentials()
    if credentials is None or credentials.get_frozen_credentials().access_key == FAKE_ACCESS_KEY:
        pytest.fail(
            "No real AWS credentials: run `pytest tests/e2e --confcutdir=tests/e2e` with credentials, or AWS_PROFILE.",
            pytrace=False,
        )
    if not session.region_name:
        pytest.fail("No AWS region: set AWS_REGION to the stack's region.", pytrace=False)
    try:
        stack = session.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        pytest.fail(f"Cannot read stack {name!r} in {session.region_name}: {error}", pytrace=False)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    origins = [o for o in parameters.get("CorsAllowedOrigins", "").split(",") if o]
    return Target(
        name=f"stack {name}",
        base_url=outputs["ApiUrl"].rstrip("/") + "/",
        region=session.region_name,
        session=session,
        lambda_client=session.client("lambda", config=LAMBDA_CONFIG),
        function=outputs["FunctionAliasArn"],
        customer_id=os.environ.get("E2E_CUSTOMER_ID") or NOBODY,  # a customer of the stack's Paddle account
        portal_origins=PADDLE_PORTALS,
        cors_origin=origins[0] if origins and parameters.get("JwtIssuer") else None,
        local=False,
    )


def local() -> Iterator[Target]:
    from local.server import REGION, SAMPLE_ACCESS_KEY, SAMPLE_CUSTOMER_ID, SAMPLE_SECRET_KEY, serve

    saved = dict(os.environ)
    for name in ("PADDLE_API_KEY", "PORTAL_LINK_BASE_URL", "CORS_ALLOWED_ORIGINS", "CUSTOMER_LOOKUP"):
        os.environ.pop(name, None)  # the local run on its embedded defaults, as `make run` starts
    server = serve(port=0)
    try:
        assert server.lambda_api is not None
        assert server.portal_standin is not None
        assert server.cors is not None
        session = boto3.Session(SAMPLE_ACCESS_KEY, SAMPLE_SECRET_KEY, region_name=REGION)
        client: Any = session.client("lambda", endpoint_url=server.lambda_api.url, config=LAMBDA_CONFIG)
        yield Target(
            name="make run's local stack",
            base_url=server.url + "/",
            region=REGION,
            session=session,
            lambda_client=client,
            function="PortalFunction",
            customer_id=SAMPLE_CUSTOMER_ID,
            portal_origins=frozenset({server.portal_standin.url}),
            cors_origin=server.cors.allow_origins[0],
            local=True,
        )
    finally:
        server.close()
        os.environ.clear()
        os.environ.update(saved)
