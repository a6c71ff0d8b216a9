"""`make load`'s scenarios b (Paddle overloaded) and c (a bad-link flood), as `make load` runs them (as many execution
environments as the template's ReservedConcurrency): fails when a goal is missed (about a minute).

Ratios and served fractions only (no timings): robust on a loaded machine. The margins are the goals themselves. The
scenarios keep their full 15 s: Paddle's goodput is counted over the scenario, and in a shorter one the requests a
spent retry budget holds back at its very end weigh too much (the 8 s `--short` run is for a quick look by hand)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.events import REPO


def test_overload_and_flood_goals_hold() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO)])}
    run = subprocess.run(
        [sys.executable, "-m", "load", "--scenarios", "bc"],
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
