"""Contract-test fixtures: Prism on Paddle's document (one per session), a recording tap in front of it, and the
local server of `make run` (one per module that asks for it).

By default Prism mocks Paddle from the document (no network). With `PADDLE_CONTRACT_UPSTREAM` set (e.g.
`https://sandbox-api.paddle.com`) it runs in proxy mode instead: the same tests then reach the real Paddle sandbox
through Prism, which checks our requests and Paddle's real answers against the document. See docs/testing.md,
"Contract tests", for the variables.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.contract.documents import PADDLE_DOCUMENT, REPO
from tests.contract.prism import PaddleTarget, Prism, PrismError, PrismTap, stop_process_group
from tests.support import API_KEY, CUSTOMER_ID, SUBSCRIPTION_ID

LOCAL_SERVER_STARTUP_SECONDS = 60.0
# Every server of the local run on a free port (its defaults are fixed ports that another run may hold).
ANY_FREE_PORTS = ("--port", "0", "--demo-port", "0", "--cognito-port", "0", "--portal-port", "0")
UPSTREAM_VARIABLE = "PADDLE_CONTRACT_UPSTREAM"


@pytest.fixture(scope="session")
def paddle_target() -> PaddleTarget:
    upstream = os.environ.get(UPSTREAM_VARIABLE, "").strip().rstrip("/")
    if not upstream:
        made_up = tuple(f"sub_a{n:025d}" for n in range(1, 25))
        return PaddleTarget(None, API_KEY, CUSTOMER_ID, (SUBSCRIPTION_ID, *made_up))
    api_key = os.environ.get("PADDLE_CONTRACT_API_KEY", "").strip()
    customer_id = os.environ.get("PADDLE_CONTRACT_CUSTOMER_ID", "").strip()
    if not api_key or not customer_id:
        pytest.fail(f"{UPSTREAM_VARIABLE} needs PADDLE_CONTRACT_API_KEY and PADDLE_CONTRACT_CUSTOMER_ID", pytrace=False)
    loopback = urlsplit(upstream).hostname in ("127.0.0.1", "localhost")  # e.g. local/paddle_fake.py
    if api_key.startswith("pdl_live_") or not (upstream.startswith("https://sandbox-") or loopback):
        pytest.fail("contract tests run against Paddle's sandbox only, with a sandbox key", pytrace=False)
    ids = tuple(i.strip() for i in os.environ.get("PADDLE_CONTRACT_SUBSCRIPTION_IDS", "").split(",") if i.strip())
    return PaddleTarget(upstream, api_key, customer_id, ids)


@pytest.fixture(scope="session")
def prism_server(paddle_target: PaddleTarget) -> Iterator[Prism]:
    """`prism mock --errors` (or `prism proxy --errors` to the sandbox) on the trimmed Paddle document. Fails (never
    skips) when Prism is not installed."""
    with tempfile.TemporaryFile() as log:
        try:
            prism = Prism(PADDLE_DOCUMENT, log, upstream=paddle_target.upstream).start()
        except PrismError as exc:
            log.seek(0)
            output = log.read().decode(errors="replace")[-4000:]
            pytest.fail(f"{exc}\n{output}".rstrip(), pytrace=False)
        try:
            yield prism
        finally:
            prism.stop()


@pytest.fixture(scope="session")
def prism_tap(prism_server: Prism) -> Iterator[PrismTap]:
    tap = PrismTap(prism_server.url).start()
    try:
        yield tap
    finally:
        tap.stop()


@pytest.fixture
def prism(prism_tap: PrismTap) -> Iterator[PrismTap]:
    """Paddle, as its OpenAPI document describes it: every request our code makes is checked by Prism.

    A test fails if any request it made violated Paddle's document, unless it said it meant to
    (`with prism.expect_violations():`)."""
    prism_tap.reset()
    yield prism_tap
    if not prism_tap.expecting_violations:
        bad = prism_tap.violating()
        assert not bad, "Prism flagged requests as violating Paddle's OpenAPI document:\n" + "\n".join(
            exchange.describe() for exchange in bad
        )


@dataclass(frozen=True)
class LocalServer:
    """What the local server's banner names: its base URL, and its user pool's endpoint and app client."""

    url: str
    cognito_endpoint: str
    client_id: str


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalServer]:
    """The local server of `make run` (`python -m local.server`), in its own process: it seeds moto and sets
    environment variables process-wide, which must not leak into the other tests."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PADDLE_", "AWS_", "POWERTOOLS_", "PORTAL_", "CUSTOMER_ID_CLAIM", "SECRET_MAX_AGE"))
    }
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "functions"), str(REPO)])
    env["PYTHONUNBUFFERED"] = "1"
    env["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # keep the captured log short; failures still show
    # Property-based runs send hundreds of requests a second for a handful of customers: the gateway's route budgets
    # and the per-customer session bound would answer most of them 429 (their own tests: tests/local/test_throttle.py,
    # tests/unit/test_customer_budget.py, tests/load). Here the contract of every answer is what is checked.
    env["LOCAL_THROTTLE"] = "off"
    env["CUSTOMER_SESSION_BURST"] = "0"
    with tempfile.NamedTemporaryFile(prefix="local-server-", suffix=".log") as out:
        process = subprocess.Popen(  # noqa: S603 - our own server
            [sys.executable, "-m", "local.server", "--host", "127.0.0.1", *ANY_FREE_PORTS],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield _wait_for_banner(process, Path(out.name))
        finally:
            stop_process_group(process)


def _wait_for_banner(process: subprocess.Popen[bytes], log: Path) -> LocalServer:
    """What the server prints once it listens (read through a separate open file: never move the child's offset)."""
    deadline = time.monotonic() + LOCAL_SERVER_STARTUP_SECONDS
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        url = re.search(r"local API on (http://127\.0\.0\.1:\d+)", text)
        pool = re.search(r"Cognito user pool \S+ \(moto\) at (http://127\.0\.0\.1:\d+), app client (\S+)", text)
        if url and pool:
            return LocalServer(url.group(1), pool.group(1), pool.group(2))
        if process.poll() is not None:
            pytest.fail(f"the local server exited with status {process.returncode}:\n{text[-4000:]}", pytrace=False)
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    pytest.fail(f"the local server printed no URL within {LOCAL_SERVER_STARTUP_SECONDS:.0f} s", pytrace=False)
