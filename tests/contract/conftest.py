"""Contract-test fixtures: Prism mocking Paddle from its document (one per session) behind a recording tap, and the
local server of `make run` in its own process (one per module that asks for it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from local.server import MAKE_VARIABLES
from tests.contract.documents import PADDLE_DOCUMENT, REPO
from tests.contract.prism import Prism, PrismError, PrismTap, stop_process_group


@pytest.fixture(scope="session")
def prism_tap() -> Iterator[PrismTap]:
    """`prism mock --errors` on the trimmed Paddle document, and its tap. Fails (never skips) without Prism."""
    with tempfile.TemporaryFile() as log:
        try:
            prism = Prism(PADDLE_DOCUMENT, log).start()
        except PrismError as exc:
            log.seek(0)
            pytest.fail(f"{exc}\n{log.read().decode(errors='replace')[-4000:]}".rstrip(), pytrace=False)
        tap = PrismTap(prism.url).start()
        yield tap
        tap.stop()
        prism.stop()


@pytest.fixture
def prism(prism_tap: PrismTap) -> Iterator[PrismTap]:
    """Paddle as its OpenAPI document describes it. A test fails if any request it made broke the document, unless it
    said it meant to (`with prism.expect_violations():`)."""
    prism_tap.reset()
    yield prism_tap
    bad = [] if prism_tap.expecting_violations else prism_tap.violating()
    assert not bad, "Prism flagged requests as breaking Paddle's document:\n" + "\n".join(e.describe() for e in bad)


@dataclass(frozen=True)
class LocalServer:
    """What the local server's banner names: its base URL, and its user pool's endpoint and app client."""

    url: str
    cognito_endpoint: str
    client_id: str


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalServer]:
    """`python -m local.server` on free ports, in its own process: it seeds moto and sets environment variables
    process-wide, which must not leak into the other tests."""
    prefixes = ("PADDLE_", "AWS_", "POWERTOOLS_", "PORTAL_", "CUSTOMER_ID_CLAIM", "SECRET_MAX_AGE")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    env.update(
        PYTHONPATH=f"{REPO / 'functions'}{os.pathsep}{REPO}", PYTHONUNBUFFERED="1", POWERTOOLS_LOG_LEVEL="WARNING"
    )
    # Hundreds of requests a second for a few customers: the route budgets and the per-customer bound would answer
    # most 429 (their own tests: tests/local/test_throttle.py, tests/unit). Here the contract of each answer counts.
    env.update(LOCAL_THROTTLE="off", CUSTOMER_SESSION_BURST="0")
    ports = [arg for name in MAKE_VARIABLES.values() for arg in ("--" + name.lower().replace("_", "-"), "0")]
    with tempfile.NamedTemporaryFile(prefix="local-server-", suffix=".log") as out:
        process = subprocess.Popen(  # noqa: S603 - our own server
            [sys.executable, "-m", "local.server", *ports], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            yield _banner(process, Path(out.name))
        finally:
            stop_process_group(process)


def _banner(process: subprocess.Popen[bytes], log: Path) -> LocalServer:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        text = log.read_text(errors="replace")  # a separate open file: never move the child's offset
        url = re.search(r"local API on (http://127\.0\.0\.1:\d+)", text)
        pool = re.search(r"Cognito user pool \S+ \(moto\) at (http://127\.0\.0\.1:\d+), app client (\S+)", text)
        if url and pool:
            return LocalServer(url[1], pool[1], pool[2])
        time.sleep(0.05)
    pytest.fail(f"the local server printed no URL (status {process.poll()}):\n{log.read_text()[-4000:]}", pytrace=False)
