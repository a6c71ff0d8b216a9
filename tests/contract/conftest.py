"""Contract-test fixtures: Prism on Paddle's document (one per session), a recording tap in front of it, and the
local server of `make run` (one per module that asks for it)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract.documents import PADDLE_DOCUMENT, REPO
from tests.contract.prism import Prism, PrismError, PrismTap

LOCAL_SERVER_STARTUP_SECONDS = 60.0


@pytest.fixture(scope="session")
def prism_server() -> Iterator[Prism]:
    """`prism mock --errors` on the trimmed Paddle document. Fails (never skips) when Prism is not installed."""
    with tempfile.TemporaryFile() as log:
        try:
            prism = Prism(PADDLE_DOCUMENT, log).start()
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


@pytest.fixture(scope="module")
def local_server() -> Iterator[str]:
    """The local server of `make run` (`python -m local.server`), in its own process: it seeds moto and sets
    environment variables process-wide, which must not leak into the other tests. Yields its base URL."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PADDLE_", "AWS_", "POWERTOOLS_", "PORTAL_", "CUSTOMER_ID_CLAIM", "SECRET_MAX_AGE"))
    }
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "functions"), str(REPO)])
    env["PYTHONUNBUFFERED"] = "1"
    env["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # keep the captured log short; failures still show
    with tempfile.NamedTemporaryFile(prefix="local-server-", suffix=".log") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.server", "--port", "0", "--host", "127.0.0.1"],
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
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def _wait_for_banner(process: subprocess.Popen[bytes], log: Path) -> str:
    """The URL the server prints once it listens (read through a separate open file: never move the child's offset)."""
    deadline = time.monotonic() + LOCAL_SERVER_STARTUP_SECONDS
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = re.search(r"local API on (http://127\.0\.0\.1:\d+)", text)
        if found:
            return found.group(1)
        if process.poll() is not None:
            pytest.fail(f"the local server exited with status {process.returncode}:\n{text[-4000:]}", pytrace=False)
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    pytest.fail(f"the local server printed no URL within {LOCAL_SERVER_STARTUP_SECONDS:.0f} s", pytrace=False)
