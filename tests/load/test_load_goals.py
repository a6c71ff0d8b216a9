"""A short run of `make load`'s scenarios b (Paddle overloaded) and c (a bad-link flood): fails when a goal is missed.

Ratios and served fractions only (no timings): robust on a loaded machine. The margins are the goals themselves."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.events import REPO


def test_overload_and_flood_goals_hold() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO)])}
    run = subprocess.run(
        [sys.executable, "-m", "load", "--short", "--scenarios", "bc", "--environments", "6"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert "b Paddle 10x: goal met" in run.stdout, run.stdout + run.stderr[-2000:]
    assert "b Paddle 2x: goal met" in run.stdout, run.stdout
    assert "c bad-link flood 20/s: goal met" in run.stdout, run.stdout
    assert run.returncode == 0, run.stdout
