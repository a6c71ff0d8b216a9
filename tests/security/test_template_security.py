"""template.yaml as an attacker would read it: what the deployed stack grants, exposes and writes down.

tests/repo/test_template.py checks the function's own inline statements (no wildcards, GetSecretValue on the API
key secret, kms:Decrypt only with a key), its routes and settings. This adds what it does not: every policy
document anywhere in the template, ARN parameters that could smuggle a wildcard into a policy, invoke permissions,
what logs and traces may record, throttling, the strength of the generated signing key, no secret values in the
file, and a static scan (checkov) with zero findings that are not suppressed with their reason in the template.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.template import TEMPLATE, load_template

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _walk(child, f"{path}/{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, f"{path}[{index}]")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _branches(value: Any) -> list[Any]:
    """Both branches of an Fn::If (AWS::NoValue dropped), or the value itself."""
    if isinstance(value, dict) and "Fn::If" in value:
        return [branch for branch in value["Fn::If"][1:] if branch != {"Ref": "AWS::NoValue"}]
    return [value]


def statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every IAM policy statement anywhere in the template, with where it is."""
    found = []
    for path, value in _walk(template["Resources"]):
        if isinstance(value, dict) and "Statement" in value:
            for index, statement in enumerate(_as_list(value["Statement"])):
                for branch in _branches(statement):
                    found.append((f"{path}/Statement[{index}]", branch))
    return found


# --- Least privilege, template-wide ---


def test_every_policy_document_names_its_actions_and_resources(template: dict[str, Any]) -> None:
    found = statements(template)
    assert len(found) >= 3, found  # the secret reads and the invoke policy, at least

    for where, statement in found:
        assert statement["Effect"] == "Allow", where
        assert "NotAction" not in statement, where
        assert "NotResource" not in statement, where
        assert "Principal" not in statement or statement["Principal"] != "*", where
        for action in _as_list(statement["Action"]):
            assert isinstance(action, str), where
            assert "*" not in action, f"{where}: wildcard action {action}"
        for resource in _as_list(statement["Resource"]):
            for branch in _branches(resource):
                assert branch != "*", f"{where}: wildcard resource"
                assert "*" not in json.dumps(branch), f"{where}: wildcard in resource {branch}"


def test_secrets_manager_access_is_get_secret_value_on_one_named_secret_per_statement(
    template: dict[str, Any],
) -> None:
    secret_resources = {
        name for name, res in template["Resources"].items() if res["Type"] == "AWS::SecretsManager::Secret"
    }
    reads = []
    for where, statement in statements(template):
        actions = _as_list(statement["Action"])
        if not any(action.lower().startswith("secretsmanager:") for action in actions):
            continue
        assert actions == ["secretsmanager:GetSecretValue"], where
        assert not isinstance(statement["Resource"], list), f"{where}: one secret per statement"
        reads.append(statement["Resource"])
        for branch in _branches(statement["Resource"]):
            ref = branch.get("Ref") if isinstance(branch, dict) else None
            assert ref in secret_resources or ref in template["Parameters"], f"{where}: {branch}"
    assert reads, "no GetSecretValue grant found"
    assert len({json.dumps(read, sort_keys=True) for read in reads}) == len(reads), "a secret is granted twice"


def _arn_parameters_in_policies(template: dict[str, Any]) -> list[str]:
    names = set()
    for _, statement in statements(template):
        for _, value in _walk(statement.get("Resource")):
            if isinstance(value, dict) and value.get("Ref") in template["Parameters"]:
                names.add(value["Ref"])
    return sorted(names)


WILDCARD_ARNS = {
    "secretsmanager": [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:*",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/*",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:paddle-?????",
        "arn:aws:secretsmanager:*:123456789012:secret:paddle",
    ],
    "kms": [
        "arn:aws:kms:us-east-1:123456789012:key/*",
        "arn:aws:kms:*:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ],
}
GOOD_ARNS = {
    "secretsmanager": "arn:aws:secretsmanager:us-east-1:123456789012:secret:paddle-AbCdEf",  # pragma: allowlist secret
    "kms": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
}


def test_arn_parameters_used_in_policies_cannot_carry_a_wildcard(template: dict[str, Any]) -> None:
    # A parameter that lands in an IAM Resource is a policy author: "secret:*" there grants every secret.
    names = _arn_parameters_in_policies(template)
    assert names, "expected the secret and key ARN parameters to be used in policies"
    accepted_wildcards = {}
    for name in names:
        parameter = template["Parameters"][name]
        pattern = parameter.get("AllowedPattern")
        assert pattern, f"{name} has no AllowedPattern"
        service = "kms" if ":kms:" in pattern else "secretsmanager"
        assert re.fullmatch(pattern, GOOD_ARNS[service]), f"{name} refuses a real ARN"
        bad = [arn for arn in WILDCARD_ARNS[service] if re.fullmatch(pattern, arn)]
        if bad:
            accepted_wildcards[name] = bad
    assert accepted_wildcards == {}


def test_invoke_permissions_are_scoped_to_this_api_and_this_function(template: dict[str, Any]) -> None:
    (api_name,) = [name for name, res in template["Resources"].items() if res["Type"] == "AWS::Serverless::HttpApi"]
    (function_name,) = [
        name for name, res in template["Resources"].items() if res["Type"] == "AWS::Serverless::Function"
    ]
    for name, res in template["Resources"].items():
        if res["Type"] == "AWS::Lambda::Permission":
            props = res["Properties"]
            assert props["Principal"] == "apigateway.amazonaws.com", name
            source = props["SourceArn"]["Fn::Sub"]
            assert f"${{{api_name}}}" in source, name
            assert "${AWS::AccountId}" in source, name
        assert res["Type"] != "AWS::Lambda::Url", f"{name}: a Function URL is not part of this stack"
    function = template["Resources"][function_name]["Properties"]
    assert "FunctionUrlConfig" not in function, "a Function URL is not part of this stack"

    (policy,) = [res for res in template["Resources"].values() if res["Type"] == "AWS::IAM::ManagedPolicy"]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert _as_list(statement["Action"]) == ["lambda:InvokeFunction"]
    # The function's alias (what the API calls) and its unqualified name: this function only, no wildcard.
    assert statement["Resource"] == [{"Ref": f"{function_name}.Alias"}, {"Fn::GetAtt": [function_name, "Arn"]}]


def test_kms_decrypt_only_on_behalf_of_secrets_manager(template: dict[str, Any]) -> None:
    kms = [s for _, s in statements(template) if any(a.startswith("kms:") for a in _as_list(s["Action"]))]
    assert kms
    for statement in kms:
        via = statement["Condition"]["StringEquals"]["kms:ViaService"]
        assert via == {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}


# --- What the stack writes down ---


def test_logs_never_get_events_and_traces_never_get_responses(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert variables["POWERTOOLS_LOG_LEVEL"] in {"INFO", "WARNING", "ERROR"}


def test_access_logs_record_no_query_headers_body_or_claims(template: dict[str, Any]) -> None:
    (api,) = [res for res in template["Resources"].values() if res["Type"] == "AWS::Serverless::HttpApi"]
    log_format = api["Properties"]["AccessLogSettings"]["Format"]
    variables = set(re.findall(r"\$[a-zA-Z.]+", log_format))
    assert variables, log_format
    # The query of GET /links/portal *is* a credential; headers carry tokens and signatures.
    forbidden = [v for v in variables if v.startswith("$request") or re.search(r"query|header|body|claims|jwt", v)]
    assert forbidden == []


def test_api_stage_is_throttled(template: dict[str, Any]) -> None:
    # The signed-link route takes anonymous requests, and Paddle limits each egress IP to 240 requests/minute.
    (api,) = [res for res in template["Resources"].values() if res["Type"] == "AWS::Serverless::HttpApi"]
    settings = api["Properties"]["DefaultRouteSettings"]
    for key in ("ThrottlingBurstLimit", "ThrottlingRateLimit"):
        parameter = template["Parameters"][settings[key]["Ref"]]
        assert int(parameter["Default"]) >= 1
        assert int(parameter["MinValue"]) >= 1
    assert int(template["Parameters"][settings["ThrottlingRateLimit"]["Ref"]]["Default"]) * 60 <= 240


def test_generated_link_signing_key_is_strong_enough_to_be_accepted(template: dict[str, Any]) -> None:
    from paddle_portal.signed_links import MIN_KEY_CHARS

    generated = [
        res["Properties"]["GenerateSecretString"]
        for res in template["Resources"].values()
        if res["Type"] == "AWS::SecretsManager::Secret" and "GenerateSecretString" in res["Properties"]
    ]
    assert generated
    for spec in generated:
        assert spec["PasswordLength"] >= MIN_KEY_CHARS
        assert spec.get("ExcludePunctuation") is True  # keys are base64url text
        active = json.loads(spec["SecretStringTemplate"])["active"]
        assert spec["GenerateStringKey"] == active


def test_no_secret_value_is_written_in_the_template(template: dict[str, Any]) -> None:
    text = TEMPLATE.read_text()
    assert not re.search(r"pdl_(live|sdbx)_apikey_\w{8,}", text)
    assert "{{resolve:secretsmanager" not in text
    assert not re.search(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b", text)
    for name, res in template["Resources"].items():
        if res["Type"] == "AWS::SecretsManager::Secret":
            value = res["Properties"].get("SecretString")
            assert value is None or value.startswith("REPLACE_WITH_"), f"{name} holds a literal value"


# --- Static scan ---


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


@pytest.mark.slow
def test_checkov_finds_nothing_unexplained(checkov_reports: dict[str, dict[str, Any]]) -> None:
    report = checkov_reports["as_is"]

    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] >= 10  # it did read the template
    assert _failed(report) == set(), "fix, or suppress in the resource's Metadata.checkov.skip with the reason"


@pytest.mark.slow
def test_every_checkov_suppression_is_needed_and_carries_its_reason(
    checkov_reports: dict[str, dict[str, Any]], template: dict[str, Any]
) -> None:
    declared = _suppressions(template)

    # Each suppression answers a finding checkov makes without it (none is stale), and says why
    assert set(declared) == _failed(checkov_reports["without_suppressions"])
    for (resource, check), reason in declared.items():
        assert len(reason.split()) >= 12, f"{check} on {resource}: the reason is missing or too thin"
