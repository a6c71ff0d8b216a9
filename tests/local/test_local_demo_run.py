"""`make run` as a person meets it across a restart and a second terminal: `python -m local.server` in its own process
on real sockets, with port overrides chosen free for this test (never the defaults: another run may hold them)."""

from __future__ import annotations

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

from local.server import MAKE_VARIABLES

REPO = Path(__file__).resolve().parents[2]
ACCESS_LINE = re.compile(r"^\d\d:\d\d:\d\d (\d{3}) ([A-Z]+) (/\S*) \d+ ms \S+$", re.M)
# What a shell gives `make run`: none of the test run's AWS, Paddle or Powertools settings.
PREFIXES = ("PADDLE_", "AWS_", "POWERTOOLS_", "PORTAL_", "CUSTOMER_", "SECRET_MAX_AGE", "CORS_")
ENV = {k: v for k, v in os.environ.items() if not k.startswith(PREFIXES) and k not in ("VERBOSE", "DEMO_CUSTOMER_ID",
       "DEMO_EMAIL", "PYTHONPATH")}  # fmt: skip


@contextmanager
def local_run(ports: list[int]) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`make run PORT=… DEMO_PORT=… …`, as make runs it, until Ctrl-C; yields it and its output file."""
    options = [arg for name, port in zip(MAKE_VARIABLES.values(), ports, strict=True)
               for arg in ("--" + name.lower().replace("_", "-"), str(port))]  # fmt: skip
    with tempfile.NamedTemporaryFile(prefix="local-run-", suffix=".log") as out:
        process = subprocess.Popen(  # noqa: S603 - our own server
            [sys.executable, "-m", "local.server", *options], cwd=REPO, env=ENV | {"PYTHONPATH": "functions",
            "PYTHONUNBUFFERED": "1"}, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while "\n# Signed link, followed" not in Path(out.name).read_text() or process.poll() is not None:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"no banner ({process.poll()}):\n{Path(out.name).read_text()[-3000:]}", pytrace=False)
                time.sleep(0.05)
            time.sleep(0.2)  # the banner's last lines
            yield process, Path(out.name)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
                process.wait(timeout=15)


def test_a_restart_keeps_the_page_pool_and_commands_and_a_token_outlives_it() -> None:
    sockets = [socket.create_server(("127.0.0.1", 0)) for _ in MAKE_VARIABLES]
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    # Given a first run, and its printed token command run from another directory, as from a second terminal
    with local_run(ports) as (process, log):
        first = log.read_text()
        [command] = re.findall(r"^TOKEN=\$\((.*)\)$", first, re.M)
        signed_in = subprocess.run(command, shell=True, cwd=tempfile.gettempdir(), env=ENV, capture_output=True,  # noqa: S602
                                   text=True, timeout=60, check=False)  # fmt: skip
    assert (signed_in.returncode, signed_in.stdout.count(".")) == (0, 2), signed_in.stderr  # a JWT
    assert process.returncode == 0  # Ctrl-C stops it cleanly

    # When the run is started again with the same ports, Then the first run's token still works: same pool, app client
    # and signing key
    with local_run(ports) as (process, log):
        second = log.read_text()
        answer = urllib3.request("POST", f"http://127.0.0.1:{ports[0]}/portal-sessions",
                                 headers={"Authorization": f"Bearer {signed_in.stdout.strip()}"})  # fmt: skip
        assert answer.status == 201, answer.data
        time.sleep(0.2)
        output = log.read_text()

    # And the banner names the same demo page, pool, app client and token command
    for pattern in (r"^demo page: .*$", r"^  users   : .*$", r"^TOKEN=.*$", r"^ends on  : .*$", r"^demo user: .*$"):
        assert re.findall(pattern, first, re.M) == re.findall(pattern, second, re.M), pattern
    assert f"demo page: http://127.0.0.1:{ports[1]}/" in second
    # And what follows is one line per request (status, method, route, latency, request id), and nothing else
    after = [line for line in output.removeprefix(second).splitlines() if line.strip() and line != "stopped"]
    assert [ACCESS_LINE.findall(line) for line in after] == [[("201", "POST", "/portal-sessions")]]
    assert "POWERTOOLS_DEV" not in output
