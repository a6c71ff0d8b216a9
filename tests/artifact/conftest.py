"""The artifact tier (docs/testing.md#artifact-tier): one emulated aarch64 CPython 3.13 process runs the built
function and layer through awslambdaric and a Runtime API stand-in (`runtime_api`), with moto's server as Secrets
Manager and the local fake as Paddle. A missing or stale `.aws-sam/build` is rebuilt with `make build` first."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.paddle_fake import PaddleFake
from tests.artifact import emulated as layout
from tests.artifact.runtime_api import Invocation, RuntimeApi
from tests.integration.test_events import LINK_SECRET_ID, LINK_TEST_KEY
from tests.support import API_KEY, SECRET_ID, cannot_run_tier, skip_tier_in_one_line

HERE = Path(__file__).resolve().parent
ENABLE = "run `make deps-artifact` (installs qemu-user-static, builds the aarch64 Python root)"
LINK_BASE_URL = "https://billing.example.com"  # for the whole process (settings are read once): the direct mint event


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The wheel and SBOM checks need only the build: they stay when the emulator is missing."""
    here = [item for item in items if item.path.is_relative_to(HERE) and "emulated" in item.fixturenames]
    skip_tier_in_one_line(config, items, here, "artifact tier", layout.missing(), ENABLE)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """.aws-sam/build, rebuilt (make build) when it is missing or not the build of functions/ as it is."""
    layout.ensure_build(tmp_path_factory.mktemp("build") / "make-build.log")
    return layout.BUILD


@dataclass
class Emulated:
    """The running runtime process, its output (python -v: every module it loaded, and from what), and Paddle."""

    api: RuntimeApi
    process: subprocess.Popen[bytes]
    output: Path
    paddle: PaddleFake
    init_seconds: float

    def invoke(self, event: Any) -> Invocation:
        assert self.process.poll() is None, "the runtime process has exited"
        return self.api.invoke(event)

    def output_text(self) -> str:
        return self.output.read_text(errors="replace")


@pytest.fixture(scope="session")
def emulated(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulated]:
    if (problem := layout.missing()) is not None:
        cannot_run_tier("artifact tier", problem, ENABLE)
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    endpoint = "http://{}:{}".format(*moto.get_host_and_port())
    secrets = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=endpoint,
                           aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    secrets.create_secret(Name=SECRET_ID, SecretString=json.dumps({"api_key": API_KEY}))  # as AWS's rotation stores it
    secrets.create_secret(Name=LINK_SECRET_ID, SecretString=json.dumps({"active": "k1", "k1": LINK_TEST_KEY}))
    paddle, api = PaddleFake(API_KEY), RuntimeApi().start()
    root = layout.lay_out(tmp_path_factory.mktemp("lambda-root"))
    function_env = {  # the template's function settings that matter here; fake credentials; moto's Secrets Manager
        "POWERTOOLS_SERVICE_NAME": "paddle-portal", "POWERTOOLS_METRICS_NAMESPACE": "PaddlePortal",
        "POWERTOOLS_LOG_LEVEL": "INFO", "POWERTOOLS_LOGGER_LOG_EVENT": "false", "POWERTOOLS_TRACE_DISABLED": "true",
        "PADDLE_API_KEY_SECRET_ID": SECRET_ID, "PORTAL_LINK_SIGNING_SECRET_ID": LINK_SECRET_ID,
        "PORTAL_LINK_BASE_URL": LINK_BASE_URL, "PADDLE_API_BASE_URL": paddle.url,
        "PADDLE_REQUEST_BUDGET_SECONDS": "20",  # emulated, a first request costs seconds (the deadline is 60 s)
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
    }  # fmt: skip
    output, started = root.parent / "runtime-output.log", time.monotonic()
    with output.open("wb") as sink:
        # -P: the runtime's sys.path as set (no script folder in front); -v: every module and where its code came from
        process = subprocess.Popen(  # noqa: S603 - our own command line
            layout.command(root, "-P", "-v", "-m", "awslambdaric", layout.handler()),
            env=layout.lambda_environment(api.address, function_env), cwd=root / "var" / "task",
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        api.wait_ready(180, lambda: process.poll() is None)  # importing takes ~10-25 s emulated; more when loaded
        yield Emulated(api, process, output, paddle, time.monotonic() - started)
    finally:
        process.kill()
        process.wait(timeout=30)
        for server in (api, paddle, moto):
            server.stop()
