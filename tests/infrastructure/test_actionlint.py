"""(j)actionlint finds nothing in .github/: expressions, job graph, runners, action inputs. A subprocess, so not in
tests/repo (make unit); tests/repo/test_workflow.py keeps the token and pinning rules. jactionlint is a maintained fork
of rhysd/actionlint shipped as a PyPI wheel (uv.lock pins it); upstream `actionlint` on PATH works too. Missing, the
test fails: a skip would let a broken workflow through."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
# Script checkers (shellcheck, pyflakes) off: the result must not depend on what else is installed.
LINTERS = {
    "jactionlint": ["--no-color", "--no-online", "--strict-exit", "--shellcheck=", "--pyflakes="],
    "actionlint": ["-no-color", "-shellcheck=", "-pyflakes="],
}


def lint(*files: Path) -> subprocess.CompletedProcess[str]:
    for name, flags in LINTERS.items():
        if found := shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name):
            # jactionlint also checks dependabot.yml; upstream actionlint would read it as a (broken) workflow.
            extra = [REPO / ".github" / "dependabot.yml"] if name == "jactionlint" and files == tuple(WORKFLOWS) else []
            command = [found, *flags, *map(str, [*files, *extra])]
            return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    pytest.fail("no actionlint: `make deps-dev` installs jactionlint from uv.lock", pytrace=False)


def test_actionlint_finds_nothing_and_would_find_a_broken_job(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text("on: push\njobs:\n  a:\n    needs: nowhere\n    runs-on: ubuntu-24.04\n    steps:\n"
                      "      - run: echo ${{ nonsense.value }}\n")  # fmt: skip

    real, bad = lint(*WORKFLOWS), lint(broken)

    assert WORKFLOWS
    assert real.returncode == 0, real.stdout + real.stderr
    assert (bad.returncode, "nowhere" in bad.stdout, "nonsense" in bad.stdout) == (1, True, True), (
        bad.stdout + bad.stderr
    )
