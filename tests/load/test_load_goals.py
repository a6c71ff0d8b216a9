"""`make load`'s scenarios b (Paddle overloaded 2x and 10x) and c (a bad-link flood) as `make load` runs them: fails
when a goal is missed (about a minute). Ratios and served fractions only, no timings: robust on a loaded machine. The
scenarios keep their full 15 s: Paddle's goodput is counted over the scenario, and in a shorter one the requests a spent
retry budget holds back at its very end weigh too much (the 8 s `--short` run is for a quick look by hand)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.events import REPO


def test_overload_and_flood_goals_hold() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO)])}
    command = [sys.executable, "-m", "load", "--scenarios", "bc"]
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240, check=False)  # noqa: S603

    for goal in ("b Paddle 10x: goal met", "b Paddle 2x: goal met", "c bad-link flood 20/s: goal met"):
        assert goal in run.stdout, run.stdout + run.stderr[-2000:]
    assert run.returncode == 0, run.stdout
