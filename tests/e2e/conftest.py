"""The e2e tier talks to a deployed stack with real AWS credentials: the stack's outputs, a signer, an HTTP pool.

Run it on its own, so that tests/conftest.py (which swaps in moto's fake credentials for the offline tiers) stays out:

    AWS_SAM_STACK_NAME=paddle-portal AWS_REGION=us-east-1 \
        .venv/bin/python -m pytest tests/e2e --confcutdir=tests/e2e

With AWS_PROFILE set, the profile is used explicitly and the tier also works inside a full `make test` run.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.stack import FAKE_ACCESS_KEY, STACK_VARIABLE, DeployedApi


@pytest.fixture(scope="session")
def aws_session() -> boto3.Session:
    profile = os.environ.get("AWS_PROFILE")
    # An explicit profile outranks credentials in the environment (botocore drops its environment provider).
    session = boto3.Session(profile_name=profile, region_name=os.environ.get("AWS_REGION"))
    credentials = session.get_credentials()
    if credentials is None:
        pytest.fail("No AWS credentials: set AWS_PROFILE, or export credentials, to run the e2e tier.", pytrace=False)
    if credentials.get_frozen_credentials().access_key == FAKE_ACCESS_KEY:
        pytest.fail(
            "The e2e tier got moto's fake credentials from tests/conftest.py. Run it on its own with "
            "`pytest tests/e2e --confcutdir=tests/e2e`, or set AWS_PROFILE.",
            pytrace=False,
        )
    if not session.region_name:
        pytest.fail("No AWS region: set AWS_REGION to the stack's region.", pytrace=False)
    return session


@pytest.fixture(scope="session")
def stack_outputs(aws_session: boto3.Session) -> dict[str, str]:
    name = os.environ[STACK_VARIABLE]
    try:
        stack = aws_session.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        pytest.fail(f"Cannot read stack {name!r} in {aws_session.region_name}: {error}", pytrace=False)
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    missing = {"ApiUrl", "FunctionName"} - outputs.keys()
    if missing:
        pytest.fail(f"Stack {name!r} ({stack['StackStatus']}) has no output {sorted(missing)}", pytrace=False)
    return outputs


@pytest.fixture(scope="session")
def api(aws_session: boto3.Session, stack_outputs: dict[str, str]) -> DeployedApi:
    base_url = stack_outputs["ApiUrl"]
    base_url = base_url if base_url.endswith("/") else base_url + "/"
    # <api-id>.execute-api.<region>.amazonaws.com: sign for the API's region, whatever the session's default.
    region = urlsplit(base_url).hostname.split(".")[2]  # type: ignore[union-attr]
    # No retries: every answer is the one under test. The read timeout outlasts API Gateway's 30 s.
    http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=35))
    return DeployedApi(base_url, region, aws_session, http)


@pytest.fixture(scope="session")
def lambda_client(aws_session: boto3.Session) -> Any:
    # The function times out after 15 s; wait longer than that for its answer, and never re-send an invocation.
    return aws_session.client("lambda", config=Config(read_timeout=30, retries={"max_attempts": 1}))
