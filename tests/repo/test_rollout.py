"""What passed is what goes live: the workflow's job graph (test -> staging -> e2e -> production), one build made by the
test job and carried to every stage, no deploy job that builds, and the stages' stacks named in samconfig.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY_JOBS = ("staging", "production")


def jobs(text: str) -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(text)["jobs"]
    return found


def needs(job: dict[str, Any]) -> set[str]:
    value = job.get("needs", [])
    return {value} if isinstance(value, str) else set(value)


def steps_text(job: dict[str, Any]) -> str:
    return "\n".join(yaml.safe_dump(step) for step in job.get("steps", []))


def artifacts(job: dict[str, Any], action: str) -> set[str]:
    return {
        s["with"]["name"] for s in job.get("steps", []) if action in s.get("uses", "") and "name" in s.get("with", {})
    }


def problems(text: str) -> list[str]:
    graph, found = jobs(text), []
    expected = {"staging": {"test"}, "e2e": {"staging"}, "production": {"staging", "e2e"}}
    for name, wanted in expected.items():
        if name not in graph or not wanted <= needs(graph[name]):
            found.append(f"{name} must run after {sorted(wanted)}")
    for name in DEPLOY_JOBS:
        job = graph.get(name, {})
        if "sam build" in steps_text(job) or "make build" in steps_text(job):
            found.append(f"{name} builds: deploy jobs deploy the tested build")
        if not artifacts(job, "actions/download-artifact"):
            found.append(f"{name} downloads no artifact")
        if "environment" not in job:
            found.append(f"{name} has no deployment environment")
    if "sam-build" not in artifacts(graph.get("test", {}), "actions/upload-artifact"):
        found.append("the test job keeps no sam-build artifact")
    if "sam-build" not in artifacts(graph.get("staging", {}), "actions/download-artifact"):
        found.append("staging does not deploy the test job's build")
    if "sam-package" not in artifacts(graph.get("production", {}), "actions/download-artifact"):
        found.append("production does not deploy the package staging deployed")
    return found


def test_the_workflow_deploys_what_passed() -> None:
    assert problems((REPO / ".github" / "workflows" / "ci.yml").read_text()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(("needs: [staging, e2e]", "needs: [staging]"), "production must run after", id="skips-e2e"),
        pytest.param(("name: sam-package\n", "name: other\n"), "production does not deploy", id="other-package"),
        pytest.param(
            ("      - name: sam package\n", "      - run: sam build\n      - name: sam package\n"),
            "staging builds",
            id="rebuilds",
        ),
    ],
)
def test_the_rules_catch_a_broken_rollout(change: tuple[str, str], expected: str) -> None:
    text = (REPO / ".github" / "workflows" / "ci.yml").read_text()
    assert change[0] in text
    assert any(found.startswith(expected) for found in problems(text.replace(*change)))


def test_every_stage_names_its_stack() -> None:
    config = tomllib.loads((REPO / "samconfig.toml").read_text())
    names = [config[stage]["global"]["parameters"]["stack_name"] for stage in DEPLOY_JOBS]
    assert len(set(names)) == len(names)
    assert 'PaddleEnvironment="sandbox"' in config["staging"]["deploy"]["parameters"]["parameter_overrides"]
