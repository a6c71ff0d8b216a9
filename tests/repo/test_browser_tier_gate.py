"""The browser tier (tests/browser) skips with one line where Chromium or Playwright is missing, and fails under CI,
which installs Chromium first (.ci/run): CI can never pass with the tier skipped."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # each case runs pytest in a subprocess (~4 s)
BLOCK_PLAYWRIGHT = "import sys; sys.modules['playwright'] = None; import pytest; sys.exit(pytest.main(sys.argv[1:]))"


def run_tier(*, ci: bool, chromium: str | None = None, playwright: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "CHROMIUM_PATH", "PYTEST_ADDOPTS")}
    if ci:
        env["CI"] = "true"
    if chromium is not None:
        env["CHROMIUM_PATH"] = chromium
    command = [sys.executable, "-m", "pytest"] if playwright else [sys.executable, "-c", BLOCK_PLAYWRIGHT]
    return subprocess.run(  # noqa: S603 - our own test suite
        [*command, "tests/browser", "-q", "-rs", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
        env=env,
    )


@pytest.mark.parametrize(
    ("chromium", "playwright", "why"),
    [
        pytest.param("/nonexistent/chromium", True, "no executable at CHROMIUM_PATH", id="no-chromium"),
        pytest.param(None, False, "Playwright for Python is not installed", id="no-playwright"),
    ],
)
def test_without_a_browser_the_tier_skips_with_one_line_saying_how_to_enable_it(
    chromium: str | None, playwright: bool, why: str
) -> None:
    run = run_tier(ci=False, chromium=chromium, playwright=playwright)

    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    skipped = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, run.stdout[-2000:]
    assert why in skipped[0]
    assert "apt-get install -y chromium" in skipped[0]
    assert re.search(r"\b1 skipped, \d+ deselected\b", run.stdout)


def test_under_ci_a_missing_browser_fails_the_tier() -> None:
    run = run_tier(ci=True, chromium="/nonexistent/chromium")

    assert run.returncode == 1, run.stdout[-2000:]
    assert "browser tier cannot run under CI" in run.stdout
    assert "skipped" not in run.stdout.splitlines()[-1]


def test_ci_installs_chromium_and_runs_as_ci() -> None:
    script = (REPO / ".ci" / "run").read_text()

    assert re.search(r"command -v chromium", script)
    assert "apt-get install -y chromium" in script
    assert re.search(r"^export CI=", script, re.MULTILINE)
    assert script.index("apt-get install -y chromium") < script.index("\nmake check")
