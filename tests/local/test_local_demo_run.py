"""`make run` as a person meets it across restarts and terminals: `python -m local.server` in its own process, on real
sockets, with port overrides chosen free for this test (never the defaults: others may be running them)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import urllib3

from local.server import DEFAULT_PORTS, MAKE_VARIABLES, GatewayServer, serve

REPO = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60.0
ACCESS_LINE = re.compile(r"^\d\d:\d\d:\d\d (\d{3}) ([A-Z]+) (/\S*) \d+ ms (\S+)$", re.M)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def run_env() -> dict[str, str]:
    """What a shell gives `make run`: none of the test run's AWS, Paddle or Powertools settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PADDLE_", "AWS_", "POWERTOOLS_", "PORTAL_", "CUSTOMER_", "SECRET_MAX_AGE", "CORS_"))
        and key not in ("VERBOSE", "DEMO_CUSTOMER_ID", "DEMO_EMAIL", "PYTHONPATH")
    }
    return {**env, "PYTHONPATH": "functions", "PYTHONUNBUFFERED": "1"}


@contextmanager
def local_run(ports: list[int]) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`make run PORT=… DEMO_PORT=… COGNITO_PORT=… PORTAL_PORT=…`, as make runs it; yields it and its output file."""
    api, demo, cognito, portal = ports
    args = ["--port", api, "--demo-port", demo, "--cognito-port", cognito, "--portal-port", portal]
    with tempfile.NamedTemporaryFile(prefix="local-run-", suffix=".log") as out:
        process = subprocess.Popen(  # noqa: S603 - our own server
            [sys.executable, "-m", "local.server", *map(str, args)],
            cwd=REPO,
            env=run_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process, Path(out.name)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def wait_for_banner(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if "\n# Signed link, followed" in text and text.rstrip().endswith("'"):
            return text
        if process.poll() is not None:
            pytest.fail(f"the local run exited with {process.returncode}:\n{text[-3000:]}", pytrace=False)
        time.sleep(0.05)
    pytest.fail("the local run printed no banner in time", pytrace=False)


def line(text: str, pattern: str) -> str:
    found = re.search(pattern, text, re.M)
    assert found is not None, f"{pattern!r} not in:\n{text}"
    return found.group(0)


def test_two_runs_in_a_row_print_the_same_page_pool_and_commands_and_a_token_outlives_the_restart() -> None:
    ports = free_ports(4)
    # Given a first run, and its printed token command run from another directory, as from a second terminal
    with local_run(ports) as (process, log):
        first = wait_for_banner(process, log)
        token_line = line(first, r"^TOKEN=\$\((.*)\)$")
        command = token_line.removeprefix("TOKEN=$(").removesuffix(")")
        signed_in = subprocess.run(  # noqa: S602 - the banner's own command, as a person pastes it
            command,
            shell=True,
            cwd=tempfile.gettempdir(),
            env=run_env() | {"PYTHONPATH": ""},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert signed_in.returncode == 0, signed_in.stderr
    token = signed_in.stdout.strip()
    assert token.count(".") == 2  # a JWT, not an empty string

    # When the run is stopped (Ctrl-C) and started again with the same ports
    assert process.returncode == 0
    with local_run(ports) as (process, log):
        second = wait_for_banner(process, log)
        api = line(second, r"local API on (http://127\.0\.0\.1:\d+)").split()[-1]
        # Then the first run's token still works: same pool, same app client, same signing key
        answer = urllib3.request("POST", f"{api}/portal-sessions", headers={"Authorization": f"Bearer {token}"})
        assert answer.status == 201, answer.data
        time.sleep(0.2)
        output = log.read_text()

    # And the banner names the same demo page, pool, app client and token command
    for pattern in (r"^demo page: .*$", r"^  users   : .*$", r"^TOKEN=.*$", r"^ends on  : .*$", r"^demo user: .*$"):
        assert re.findall(pattern, first, re.M) == re.findall(pattern, second, re.M), pattern
    assert f"demo page: http://127.0.0.1:{ports[1]}/" in second
    # And what follows the banner is one line per request: status, method, route, latency, request id
    after = output.split(line(second, r"^curl -i 'http://127\.0\.0\.1:\d+/links/portal.*$"), 1)[1]
    assert ACCESS_LINE.findall(after) == [("201", "POST", "/portal-sessions", ACCESS_LINE.findall(after)[0][3])]
    assert [text for text in after.splitlines() if text.strip()] == [ACCESS_LINE.search(after).group(0)]  # type: ignore[union-attr]
    # And no POWERTOOLS_DEV warning or structured log line anywhere
    assert "POWERTOOLS_DEV" not in first + output
    assert '"level"' not in output
    assert '{"_aws"' not in output


@pytest.mark.parametrize("taken", ["api", "demo page", "sign-in service", "portal stand-in"])
def test_a_port_clash_names_the_make_variable_to_set(taken: str) -> None:
    ports = free_ports(4)
    index = list(DEFAULT_PORTS).index(taken)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports[index]))
        squatter.listen()
        with local_run(ports) as (process, log):
            process.wait(timeout=STARTUP_SECONDS)
            text = log.read_text()

    assert process.returncode == 1
    assert f"127.0.0.1:{ports[index]} for the {taken}" in text
    assert f"make run {MAKE_VARIABLES[taken]}=<free port>" in text
    assert "Traceback" not in text


def test_the_api_root_answers_an_index(restore_environ: None) -> None:
    server: GatewayServer = serve(port=0)
    try:
        answer = urllib3.request("GET", f"{server.url}/")
        assert server.demo_page is not None
        page_url = f"{server.demo_page.url}/"
    finally:
        server.close()

    assert answer.status == 200
    index = json.loads(answer.data)
    assert index["demo_page"] == page_url
    assert "POST /portal-links (JWT)" in index["routes"]
    assert "README.md" in index["docs"]
