""".github/workflows keep GitHub's token least-privilege and run only reviewed action code: read-only by default, no
stored secrets (OIDC), an OIDC token only in jobs gated by a deployment environment, every action pinned to a commit.
Generic rules, whatever the jobs are. actionlint runs in tests/infrastructure/test_actionlint.py (a subprocess)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
# owner/repo[/path]@<full commit SHA> and a `# vX.Y.Z` comment naming the release: a tag can be moved, a commit cannot.
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[^@\s]+)?@[0-9a-f]{40}$")


def _load(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the bare key `on` as True
    return dict(document)


def problems(text: str) -> list[str]:
    workflow, found = _load(text), []
    top = workflow.get("permissions")
    if top != {"contents": "read"}:
        found.append(f"top-level permissions must be exactly {{contents: read}}, not {top!r}")
    if "pull_request_target" in (workflow["on"] or {}):
        found.append("pull_request_target runs untrusted code with a privileged token")
    if "secrets." in text:
        found.append("a stored secret: use OIDC")
    for name, job in workflow.get("jobs", {}).items():
        permissions = job.get("permissions", top)
        if not isinstance(permissions, dict):
            found.append(f"job {name}: permissions {permissions!r}: list scopes")
            continue
        for scope, level in permissions.items():
            if level == "write" and not (scope == "id-token" and "environment" in job):
                found.append(f"job {name}: {scope}: write (only id-token, in a job with a deployment environment)")
        uses = [job["uses"]] if "uses" in job else [step["uses"] for step in job.get("steps", []) if "uses" in step]
        for ref in (ref for ref in uses if not ref.startswith("./")):
            if not PINNED.match(ref) or not re.search(rf"uses:\s*{re.escape(ref)}\s+#\s*v\d", text):
                found.append(f"job {name}: {ref} is not pinned to a commit with a '# vX.Y.Z' comment")
    return found


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_the_workflow_is_least_privilege_and_pins_its_actions(workflow: Path) -> None:
    assert problems(workflow.read_text()) == []


GOOD_JOB = "    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@" + "a" * 40 + " # v4.3.1\n"
SAFE = "on: push\npermissions: {contents: read}\njobs:\n  test:\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(SAFE + GOOD_JOB, None, id="safe"),
        pytest.param(SAFE.replace("{contents: read}", "write-all") + GOOD_JOB, "top-level", id="write-all"),
        pytest.param(SAFE + "    permissions: write-all\n" + GOOD_JOB, "list scopes", id="job-write-all"),
        pytest.param(SAFE + "    permissions: {id-token: write}\n" + GOOD_JOB, "id-token: write", id="oidc-no-env"),
        pytest.param(SAFE + "    environment: prod\n    permissions: {contents: write}\n" + GOOD_JOB, "contents: write",
                     id="contents-write"),
        pytest.param(SAFE.replace("push", "pull_request_target") + GOOD_JOB, "pull_request_target", id="prt"),
        pytest.param(SAFE + GOOD_JOB + "      - run: echo ${{ secrets.AWS_KEY }}\n", "stored secret", id="secret"),
        pytest.param(SAFE + GOOD_JOB.replace("a" * 40, "v4"), "not pinned", id="tag"),
        pytest.param(SAFE + GOOD_JOB.replace(" # v4.3.1", ""), "not pinned", id="no-release-comment"),
        pytest.param(SAFE + "    uses: org/repo/.github/workflows/x.yml@main\n", "not pinned", id="reusable-workflow"),
    ],
)  # fmt: skip
def test_the_rules_catch_a_risky_workflow(text: str, expected: str | None) -> None:
    found = problems(text)
    assert (found == []) if expected is None else any(expected in problem for problem in found), found


def test_ci_runs_the_same_entry_point_as_ci_run() -> None:
    runs = [step.get("run", "") for path in WORKFLOWS for job in _load(path.read_text())["jobs"].values()
            for step in job.get("steps", [])]  # fmt: skip
    assert any(re.search(r"^make check\b", run, re.MULTILINE) for run in runs)
    assert re.search(r"^make check$", (REPO / ".ci" / "run").read_text(), re.MULTILINE)
