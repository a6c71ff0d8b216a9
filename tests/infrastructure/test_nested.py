"""examples/nested: paddle-portal inside a team's own stack (AWS::Serverless::Application with a local Location), given
the parent's identity provider, its outputs used by the parent. Checked as the team would: sam validate --lint, then
sam build of the parent, which builds the child's function, hook and layer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.infrastructure.stack import Stack

REPO = Path(__file__).resolve().parents[2]
PARENT = REPO / "examples" / "nested" / "template.yaml"
SAM = str(Path(sys.executable).parent / "sam")


def sam(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # sam build runs the Makefiles' python3.13 from PATH: the venv's (make venv builds it with 3.13 when there is one)
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    environment = {**os.environ, "PATH": path, "SAM_CLI_TELEMETRY": "0"}
    command = [SAM, *args]
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603


def test_the_parent_passes_its_identity_provider_and_uses_the_apps_outputs() -> None:
    parent = Stack(PARENT)
    portal = parent.resources["BillingPortal"]["Properties"]
    function = parent.resources["BillingEmails"]["Properties"]
    child_parameters = Stack().parameters

    assert set(portal["Parameters"]) <= set(child_parameters)  # every name one of the app's parameters
    assert portal["Parameters"]["JwtIssuer"] == {"Fn::GetAtt": ["Users", "Outputs.Issuer"]}
    assert function["Environment"]["Variables"]["PORTAL_FUNCTION"] == {
        "Fn::GetAtt": ["BillingPortal", "Outputs.FunctionAliasArn"]
    }
    role = parent.resources["BillingEmailsRole"]["Properties"]
    assert {"Fn::GetAtt": ["BillingPortal", "Outputs.InvokePolicyArn"]} in role["ManagedPolicyArns"]
    assert {"ApiUrl", "FunctionAliasArn", "InvokePolicyArn"} <= set(Stack().outputs)  # what the parent reads


def test_the_parent_validates_and_builds_with_the_app_inside(tmp_path: Path) -> None:
    validated = sam("validate", "--lint", cwd=PARENT.parent)
    built = sam("build", "--build-dir", str(tmp_path), cwd=PARENT.parent)

    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    child = tmp_path / "BillingPortal"
    assert (child / "PortalFunction" / "paddle_portal" / "app.py").is_file()
    assert (child / "PreTrafficHook" / "deploy_hook" / "app.py").is_file()
    assert list((child / "DependenciesLayer" / "python" / "pydantic_core").glob("*aarch64*.so"))
    template = yaml.safe_load((tmp_path / "template.yaml").read_text().replace("!", ""))
    assert template["Resources"]["BillingPortal"]["Properties"]["Location"] == "BillingPortal/template.yaml"
