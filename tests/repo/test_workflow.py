""".github/workflows: actionlint finds nothing, the token is least-privilege, every action is pinned to a commit.

The linter is jactionlint (a maintained fork of rhysd/actionlint that ships as a PyPI wheel, so uv.lock pins it like
every other tool) or upstream `actionlint` when that is what is installed. A missing linter fails the test: a skip
would let a broken workflow through unnoticed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
CI = REPO / ".github" / "workflows" / "ci.yml"
DEPENDABOT = REPO / ".github" / "dependabot.yml"

# owner/repo[/path]@<full commit SHA>; a tag or branch can be moved to other code, a commit cannot.
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[^@\s]+)?@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
VERSION_COMMENT = re.compile(r"#\s*v\d+(\.\d+)*\b")
# The only job that may mint an OIDC token (for the AWS deploy role).
OIDC_JOBS = {"deploy"}


def _load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path.name} is not a YAML mapping"
    # YAML 1.1 reads the bare key `on` as the boolean True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def _steps(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from job.get("steps") or []


# --- the rules, as functions returning problems, so that they can be shown to catch bad workflows ---


def unpinned_uses(text: str) -> list[str]:
    """Every `uses:` names a full commit SHA and carries a `# vX.Y.Z` comment saying which release it is."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = USES_LINE.match(line)
        if not match:
            continue
        ref = match["ref"].strip("'\"")
        if ref.startswith("./"):
            continue  # an action of this repository: reviewed with it
        if not PINNED.match(ref):
            problems.append(f"line {number}: {ref} is not pinned to a 40-hex commit SHA")
        elif not VERSION_COMMENT.search(match["rest"]):
            problems.append(f"line {number}: {ref} has no '# vX.Y.Z' comment naming its release")
    return problems


def _permission_values(permissions: Any) -> dict[str, str]:
    return permissions if isinstance(permissions, dict) else {}


def permission_problems(workflow: dict[str, Any]) -> list[str]:
    problems = []
    top = workflow.get("permissions")
    if top != {"contents": "read"}:
        problems.append(f"top-level permissions must be exactly {{contents: read}}, not {top!r}")
    if "pull_request_target" in (workflow.get("on") or {}):
        problems.append("pull_request_target runs untrusted code with a privileged token")
    for name, job in (workflow.get("jobs") or {}).items():
        own = job.get("permissions")
        if isinstance(own, str) or isinstance(top, str):
            problems.append(f"job {name}: permissions given as {own or top!r} (write-all/read-all); list scopes")
        effective = _permission_values(own if own is not None else top)
        for scope, level in effective.items():
            if level == "write" and not (scope == "id-token" and name in OIDC_JOBS):
                problems.append(f"job {name}: {scope}: write is not allowed")
    return problems


# --- the real workflow ---


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return _load(CI)


def test_there_is_a_ci_workflow() -> None:
    assert CI in WORKFLOWS


def _linter() -> tuple[Path, list[str]]:
    """The installed linter and its flags. Script checkers (shellcheck, pyflakes) are turned off so the result is
    the same on every machine, whatever else happens to be installed."""
    bin_dir = Path(sys.executable).parent
    for name, flags in (
        ("jactionlint", ["--no-color", "--no-online", "--strict-exit", "--shellcheck=", "--pyflakes="]),
        ("actionlint", ["-no-color", "-shellcheck=", "-pyflakes="]),
    ):
        found = bin_dir / name if (bin_dir / name).exists() else shutil.which(name)
        if found:
            return Path(found), flags
    pytest.fail(
        "No actionlint binary in the virtualenv or on PATH. `make test` installs jactionlint from "
        "uv.lock; upstream `actionlint` (rhysd/actionlint) on PATH works too.",
        pytrace=False,
    )


def _lint(*files: Path) -> subprocess.CompletedProcess[str]:
    binary, flags = _linter()
    return subprocess.run(  # noqa: S603 - a fixed binary on files of this repository
        [str(binary), *flags, *map(str, files)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_actionlint_finds_nothing() -> None:
    binary, _ = _linter()
    # jactionlint also checks dependabot.yml; upstream actionlint would read it as a (broken) workflow.
    extra = [DEPENDABOT] if binary.name == "jactionlint" and DEPENDABOT.exists() else []
    result = _lint(*WORKFLOWS, *extra)
    assert result.returncode == 0, f"{binary.name} found problems:\n{result.stdout}{result.stderr}"


def test_actionlint_has_teeth(tmp_path: Path) -> None:
    # Given a workflow with an undefined job dependency and an unknown expression context
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    broken = workflows / "broken.yml"
    broken.write_text(
        "on: push\npermissions: {}\njobs:\n  a:\n    needs: nowhere\n    runs-on: ubuntu-24.04\n"
        "    steps:\n      - run: echo ${{ nonsense.value }}\n"
    )
    # When the linter reads it, Then it fails and names both problems
    result = _lint(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "nowhere" in result.stdout
    assert "nonsense" in result.stdout


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_commit(workflow: Path) -> None:
    assert unpinned_uses(workflow.read_text()) == []


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_every_uses_is_seen_by_the_pin_check(workflow: Path) -> None:
    """The pin check reads lines; make sure it saw every `uses` YAML knows of (steps and reusable workflows)."""
    document = _load(workflow)
    parsed = [job["uses"] for job in document["jobs"].values() if "uses" in job]
    parsed += [step["uses"] for job in document["jobs"].values() for step in _steps(job) if "uses" in step]
    scanned = [m["ref"].strip("'\"") for m in map(USES_LINE.match, workflow.read_text().splitlines()) if m]
    assert sorted(parsed) == sorted(scanned)
    assert parsed, "no action at all: is the workflow still there?"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_token_permissions_are_least_privilege(workflow: Path) -> None:
    assert permission_problems(_load(workflow)) == []
    assert "write-all" not in workflow.read_text()


def test_only_the_deploy_job_mints_an_oidc_token(ci: dict[str, Any]) -> None:
    minting = {name for name, job in ci["jobs"].items() if (job.get("permissions") or {}).get("id-token") == "write"}
    assert minting == {"deploy"}
    assert ci["jobs"]["deploy"]["permissions"] == {"contents": "read", "id-token": "write"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("      - uses: actions/checkout@v4\n", "not pinned", id="tag"),
        pytest.param("      - uses: actions/checkout@main\n", "not pinned", id="branch"),
        pytest.param("      - uses: actions/checkout@34e1148\n", "not pinned", id="short-sha"),
        pytest.param(
            "      - uses: actions/checkout@34e114876b0b11c390a56381ad16ebd13914f8d5\n",
            "no '# vX.Y.Z'",
            id="no-comment",
        ),
        pytest.param("    uses: org/repo/.github/workflows/x.yml@v1\n", "not pinned", id="reusable-workflow-tag"),
    ],
)
def test_pin_check_catches(text: str, expected: str) -> None:
    problems = unpinned_uses(text)
    assert len(problems) == 1
    assert expected in problems[0]


@pytest.mark.parametrize(
    ("workflow", "expected"),
    [
        pytest.param({"permissions": "write-all", "jobs": {}}, "top-level", id="write-all-top"),
        pytest.param(
            {"permissions": {"contents": "read"}, "jobs": {"test": {"permissions": "write-all"}}},
            "write-all",
            id="write-all-job",
        ),
        pytest.param(
            {"permissions": {"contents": "read"}, "jobs": {"test": {"permissions": {"id-token": "write"}}}},
            "id-token: write",
            id="oidc-outside-deploy",
        ),
        pytest.param(
            {"permissions": {"contents": "read"}, "jobs": {"deploy": {"permissions": {"contents": "write"}}}},
            "contents: write",
            id="contents-write",
        ),
        pytest.param({"jobs": {}}, "top-level", id="no-top-level-permissions"),
        pytest.param(
            {"permissions": {"contents": "read"}, "on": {"pull_request_target": None}, "jobs": {}},
            "pull_request_target",
            id="pull-request-target",
        ),
    ],
)
def test_permission_check_catches(workflow: dict[str, Any], expected: str) -> None:
    problems = permission_problems(workflow)
    assert any(expected in problem for problem in problems), problems


# --- what the jobs do ---


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in _steps(job))


def _action(job: dict[str, Any], name: str) -> dict[str, Any]:
    steps = [step for step in _steps(job) if step.get("uses", "").startswith(f"{name}@")]
    assert len(steps) == 1, f"expected one {name} step"
    return steps[0]


def test_test_job_runs_every_check_on_the_runtime_versions(ci: dict[str, Any]) -> None:
    job = ci["jobs"]["test"]
    runs = _runs(job)
    # `make check` is what .ci/run runs too: one list of checks (the Makefile's CHECKS), so the two cannot drift.
    assert "make check" in runs
    assert re.search(r"^make check$", (REPO / ".ci" / "run").read_text(), re.MULTILINE)
    checks = re.search(r"^CHECKS := (.*)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert checks, "the Makefile lists what `make check` runs in CHECKS"
    for check in ("lint", "typecheck", "test", "validate", "build", "layer-arm64"):
        assert check in checks.group(1).split(), check
    assert _action(job, "actions/setup-python")["with"]["python-version"] == "3.13"
    assert _action(job, "actions/setup-node")["with"]["node-version"] == "20"


def test_deploy_job_runs_on_main_pushes_only_after_the_tests(ci: dict[str, Any]) -> None:
    job = ci["jobs"]["deploy"]
    assert job["needs"] in ("test", ["test"])
    condition = job["if"].replace(" ", "")
    assert "github.event_name=='push'" in condition
    assert "github.ref=='refs/heads/main'" in condition
    assert job["environment"]["name"] == "production"
    assert job["concurrency"]["cancel-in-progress"] is False


def test_deploy_job_assumes_the_role_from_the_repository_variable(ci: dict[str, Any]) -> None:
    job = ci["jobs"]["deploy"]
    credentials = _action(job, "aws-actions/configure-aws-credentials")["with"]
    assert credentials["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert not any(key.startswith("aws-access-key") or key.startswith("aws-secret") for key in credentials)
    assert "secrets." not in CI.read_text(), "no stored secrets: OIDC only"


def test_deploy_job_deploys_the_production_config_without_prompting(ci: dict[str, Any]) -> None:
    (deploy,) = [step["run"] for step in _steps(ci["jobs"]["deploy"]) if "sam deploy" in step.get("run", "")]
    for flag in ("--config-env production", "--no-confirm-changeset", "--no-fail-on-empty-changeset"):
        assert flag in deploy, flag


def test_runs_are_grouped(ci: dict[str, Any]) -> None:
    assert "group" in ci["concurrency"]
