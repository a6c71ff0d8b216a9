"""The artifact tier: what `sam build` wrote, run as Lambda runs it, on the architecture it ships for.

One emulated aarch64 CPython 3.13 process (qemu-user) imports the built function and layer from /var/task and /opt
through awslambdaric and serves every invocation of the tier through a Runtime API stand-in (`runtime_api`); Secrets
Manager is moto's server and Paddle the local fake, both on 127.0.0.1.

Needs qemu-user-static and the aarch64 Python root (`make deps-artifact` installs and builds both from Debian's
packages). Without them the tier is one skipped test with one line saying how to enable it; under CI (the `CI`
variable set, as GitHub Actions and .ci/run set it) that is a failure instead: CI must run this tier. A missing or
stale `.aws-sam/build` is rebuilt with `make build` first.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.paddle_fake import PaddleFake
from tests.artifact import emulated as layout
from tests.artifact.runtime_api import Invocation, RuntimeApi
from tests.integration.test_events import LINK_SECRET_ID, LINK_TEST_KEY
from tests.support import API_KEY, SECRET_ID, in_ci, skip_tier_in_one_line

HERE = Path(__file__).resolve().parent
ENABLE = "run `make deps-artifact` (installs qemu-user-static, builds the aarch64 Python root)"
INIT_TIMEOUT_S = 180  # importing the function with its layer takes ~10-25 s emulated; a loaded machine, more
# PORTAL_LINK_BASE_URL for the whole process (settings are read once per environment): the direct mint event needs it.
LINK_BASE_URL = "https://billing.example.com"
# Emulated, a first request costs seconds: give the Paddle budget room (the deadline is the Runtime API's, 60 s).
BUDGET_SECONDS = "20"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without qemu or the aarch64 root (and not under CI), the tier is one skipped test with one line; the others
    are deselected rather than each repeating it. The wheel checks need only the build: they stay."""
    here = [item for item in items if item.path.is_relative_to(HERE) and "emulated" in item.fixturenames]
    skip_tier_in_one_line(config, items, here, "artifact tier", layout.missing(), ENABLE)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """.aws-sam/build, rebuilt (make build) when it is missing or not the build of functions/ as it is."""
    layout.ensure_build(tmp_path_factory.mktemp("build") / "make-build.log")
    return layout.BUILD


@dataclass
class Emulated:
    """The running runtime process and what it needs for assertions."""

    api: RuntimeApi
    process: subprocess.Popen[bytes]
    output: Path  # the process's stdout and stderr (python -v: every module it loaded, and from what)
    paddle: PaddleFake
    init_seconds: float

    def invoke(self, event: Any) -> Invocation:
        assert self.process.poll() is None, "the runtime process has exited"
        return self.api.invoke(event)

    def output_text(self) -> str:
        return self.output.read_text(errors="replace")


@pytest.fixture(scope="session")
def emulated_runtime(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulated]:
    problem = layout.missing()
    if problem is not None:
        if in_ci():
            pytest.fail(f"artifact tier cannot run under CI: {problem}; {ENABLE}", pytrace=False)
        pytest.skip(f"artifact tier: {problem}; to run it, {ENABLE}")
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    _create_secrets(endpoint)
    paddle = PaddleFake(API_KEY)
    api = RuntimeApi().start()
    root = layout.lay_out(tmp_path_factory.mktemp("lambda-root"))
    output = root.parent / "runtime-output.log"
    function_env = {
        # The template's function settings that matter here (the rest keep their defaults).
        "POWERTOOLS_SERVICE_NAME": "paddle-portal",
        "POWERTOOLS_METRICS_NAMESPACE": "PaddlePortal",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_LOGGER_LOG_EVENT": "false",
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
        "PADDLE_API_KEY_SECRET_ID": SECRET_ID,
        "PORTAL_LINK_SIGNING_SECRET_ID": LINK_SECRET_ID,
        "PORTAL_LINK_BASE_URL": LINK_BASE_URL,
        "PADDLE_API_BASE_URL": paddle.url,
        "PADDLE_REQUEST_BUDGET_SECONDS": BUDGET_SECONDS,
        # Fake credentials; Secrets Manager is moto's server (botocore reads the service's endpoint variable).
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
    }
    env = layout.lambda_environment(api.address, function_env)
    started = time.monotonic()
    with output.open("wb") as sink:
        # -P: the runtime's sys.path as set (no script folder in front); -v: every module and where its code came from.
        process = subprocess.Popen(  # noqa: S603 - our own command line
            layout.command(root, "-P", "-v", "-m", "awslambdaric", layout.handler()),
            env=env,
            cwd=root / "var" / "task",
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        api.wait_ready(INIT_TIMEOUT_S, lambda: process.poll() is None)
        yield Emulated(api, process, output, paddle, time.monotonic() - started)
    finally:
        process.kill()
        process.wait(timeout=30)
        api.stop()
        paddle.stop()
        moto.stop()


@pytest.fixture
def emulated(emulated_runtime: Emulated) -> Emulated:
    return emulated_runtime


def _create_secrets(endpoint: str) -> None:
    """The API key as AWS managed rotation stores it, and the link signing keys events/README.md names."""
    import boto3

    client = boto3.client(
        "secretsmanager",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_secret(Name=SECRET_ID, SecretString=json.dumps({"api_key": API_KEY}))
    client.create_secret(Name=LINK_SECRET_ID, SecretString=json.dumps({"active": "k1", "k1": LINK_TEST_KEY}))
