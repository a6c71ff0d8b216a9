"""examples/cognito/template.yaml: the user pool docs/identity.md describes, as it describes it, and cfn-lint clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.template import load_template

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cognito" / "template.yaml"
CUSTOMER_ATTRIBUTE = "custom:paddle_customer_id"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(EXAMPLE)


def test_cfn_lint_passes() -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or shutil.which("cfn-lint")
    if cfn_lint is None:
        pytest.skip("cfn-lint is not installed (it comes with aws-sam-cli, requirements-dev.txt)")

    run = subprocess.run([cfn_lint, str(EXAMPLE)], capture_output=True, text=True, timeout=120, check=False)  # noqa: S603

    assert run.returncode == 0, run.stdout + run.stderr


def test_the_app_client_reads_the_customer_id_and_cannot_write_it(template: dict[str, Any]) -> None:
    client = template["Resources"]["WebClient"]["Properties"]

    assert {"email", "email_verified", CUSTOMER_ATTRIBUTE} <= set(client["ReadAttributes"])
    assert CUSTOMER_ATTRIBUTE not in client["WriteAttributes"]
    assert client["GenerateSecret"] is False


def test_the_pool_has_the_custom_attribute_and_outputs_what_the_api_template_takes(template: dict[str, Any]) -> None:
    schema = {a["Name"]: a for a in template["Resources"]["UserPool"]["Properties"]["Schema"]}
    outputs = template["Outputs"]

    assert schema["paddle_customer_id"]["AttributeDataType"] == "String"
    assert outputs["Issuer"]["Value"] == {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"}
    assert outputs["ClientId"]["Value"] == {"Ref": "WebClient"}
