"""The template through the tools that judge it: cfn-lint (also for examples/), and checkov with every suppression
explained. Each starts a subprocess: this tier is not part of `make unit`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.infrastructure.stack import Stack
from tests.template import TEMPLATE, load_template

REPO = Path(__file__).resolve().parents[2]
COGNITO_EXAMPLE = REPO / "examples" / "cognito" / "template.yaml"
CUSTOMER_ATTRIBUTE = "custom:paddle_customer_id"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def cfn_lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or shutil.which("cfn-lint")
    assert tool, "cfn-lint comes with aws-sam-cli: make deps-sam"
    return subprocess.run([tool, *map(str, paths)], capture_output=True, text=True, timeout=300, check=False)  # noqa: S603


# The stacks the parameters make: each combination of the optional parts.
COMBINATIONS = {
    "defaults": {},
    "jwt-cors": {
        "JwtIssuer": "https://issuer.example.com/",
        "JwtAudience": "a",
        "CorsAllowedOrigins": "https://a.example",
    },
    "new-domain-in-a-zone": {"DomainName": "billing.example.com", "HostedZoneId": "Z0123456789ABC"},
    "new-domain": {"DomainName": "billing.example.com"},
    "mapped-path": {"DomainName": "api.example.com/billing"},
    "existing-secret-snapstart": {
        "PaddleApiKeySecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:paddle-AbCdEf",
        "ColdStartMode": "snapstart",
        "DeploymentType": "AllAtOnce",
    },
}


def test_each_stack_the_parameters_make_and_the_cognito_example_pass_cfn_lint(tmp_path: Path) -> None:
    """`sam validate --lint` (make validate) lints the template with its conditions; this lints each concrete stack
    (SAM's translation, the conditions decided) as CloudFormation would receive it, in one cfn-lint run."""
    files = []
    for name, parameters in COMBINATIONS.items():
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(Stack(**parameters).as_template()))

    run = cfn_lint(*files, COGNITO_EXAMPLE)

    assert run.returncode == 0, run.stdout + run.stderr


def test_the_cognito_app_client_reads_the_customer_id_and_cannot_write_it() -> None:
    example = load_template(COGNITO_EXAMPLE)
    client = example["Resources"]["WebClient"]["Properties"]
    schema = {a["Name"]: a for a in example["Resources"]["UserPool"]["Properties"]["Schema"]}

    assert {"email", "email_verified", CUSTOMER_ATTRIBUTE} <= set(client["ReadAttributes"])
    assert CUSTOMER_ATTRIBUTE not in client["WriteAttributes"]  # or a user could name any customer
    assert client["GenerateSecret"] is False
    assert schema["paddle_customer_id"]["AttributeDataType"] == "String"
    assert example["Outputs"]["Issuer"]["Value"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
    }


# --- checkov ---


def _checkov() -> str:
    """checkov from its own virtualenv (`make test` installs the checkov group of uv.lock there: its pins conflict with
    boto3 and packaging in the project's), or one named by $CHECKOV, or on PATH."""
    candidates = [os.environ.get("CHECKOV"), str(REPO / ".venv/tools/checkov/bin/checkov"), shutil.which("checkov")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail("checkov is not installed: `make deps-checkov` installs it into .venv/tools/checkov from uv.lock")


def _run_checkov(path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - a pinned tool on our own template
        [_checkov(), "--file", str(path), "--framework", "cloudformation", "--skip-download", "--output", "json"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )


def _report(process: subprocess.Popen[str]) -> dict[str, Any]:
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode in (0, 1), stderr[-3000:]
    report: dict[str, Any] = json.loads(stdout)
    return report


def _suppressions(template: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(resource, check id) -> reason, as declared in the template's Metadata.checkov.skip."""
    return {
        (name, skip["id"]): skip.get("comment", "")
        for name, res in template["Resources"].items()
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }


@pytest.fixture(scope="module")
def checkov_reports(template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """checkov on template.yaml as it is, and on the same template without its suppressions (CloudFormation JSON),
    both at once."""
    bare = json.loads(json.dumps(template))
    for res in bare["Resources"].values():
        res.get("Metadata", {}).pop("checkov", None)
    unsuppressed = tmp_path_factory.mktemp("checkov") / "template.json"
    unsuppressed.write_text(json.dumps(bare))
    as_is, without = _run_checkov(TEMPLATE), _run_checkov(unsuppressed)
    return {"as_is": _report(as_is), "without_suppressions": _report(without)}


def _failed(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(check["resource"].split(".", 1)[1], check["check_id"]) for check in report["results"]["failed_checks"]}


def test_checkov_finds_nothing_unexplained(checkov_reports: dict[str, dict[str, Any]]) -> None:
    report = checkov_reports["as_is"]

    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] >= 10  # it did read the template
    assert _failed(report) == set(), "fix, or suppress in the resource's Metadata.checkov.skip with the reason"


def test_every_checkov_suppression_is_needed_and_carries_its_reason(
    checkov_reports: dict[str, dict[str, Any]], template: dict[str, Any]
) -> None:
    declared = _suppressions(template)

    # Each suppression answers a finding checkov makes without it (none is stale), and says why
    assert set(declared) == _failed(checkov_reports["without_suppressions"])
    for (resource, check), reason in declared.items():
        assert len(reason.split()) >= 12, f"{check} on {resource}: the reason is missing or too thin"


def test_sam_deploy_guided_asks_at_most_twenty_questions(tmp_path: Path) -> None:
    """Everything `sam deploy --guided` asks before it needs AWS ("Looking for resources needed for deployment"),
    answered with Enter in a terminal, as a newcomer meets it: stack, region, each parameter, then SAM's own."""
    import pty
    import select
    import time

    shutil.copy(TEMPLATE, tmp_path / "template.yaml")
    environment = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}
    sam = str(Path(sys.executable).parent / "sam")
    terminal, child_side = pty.openpty()  # a terminal, as sam's prompts want one
    process = subprocess.Popen(  # noqa: S603 - the pinned SAM CLI on a copy of our template
        [sam, "deploy", "--guided", "--template-file", "template.yaml"],
        cwd=tmp_path,  # its samconfig.toml is written there
        env=environment,
        stdin=child_side,
        stdout=child_side,
        stderr=child_side,
        start_new_session=True,
    )
    os.close(child_side)
    output, questions, deadline = b"", [], time.monotonic() + 120
    while b"Looking for resources needed for deployment" not in output and time.monotonic() < deadline:
        if select.select([terminal], [], [], 0.7)[0]:  # quiet for a moment: a question waits
            try:
                output += os.read(terminal, 4096)
            except OSError:  # sam exited
                break
            continue
        last = output.decode(errors="replace").rstrip().rsplit("\n", 1)[-1]
        if last.endswith(("]:", ":")) and last not in questions[-1:]:
            questions.append(last)
            os.write(terminal, b"\r")
    process.kill()
    process.wait()
    os.close(terminal)

    assert b"Looking for resources needed for deployment" in output, output.decode(errors="replace")[-2000:]
    assert len(questions) <= 20, questions
    assert "Parameter PaddleEnvironment" in questions[2]  # after the stack and the region: the essentials
