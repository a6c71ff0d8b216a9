"""Against a deployed stack: IAM (SigV4) route through API Gateway to Paddle, API Gateway's own refusals, and direct
invocation's typed errors.

Needs AWS_SAM_STACK_NAME (and credentials and AWS_REGION; see conftest.py). E2E_CUSTOMER_ID optionally names a real
customer of the stack's Paddle account; without it, a well-formed id that no account has is used and Paddle's 404
is the expected answer. Either way nothing is printed that could hold a portal link.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.stack import STACK_VARIABLE, Answer, DeployedApi, session_summary

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not os.environ.get(STACK_VARIABLE),
        reason=f"{STACK_VARIABLE} is not set: the e2e tier needs a deployed stack (see tests/e2e/conftest.py)",
    ),
]

EVENTS = Path(__file__).resolve().parents[2] / "events"
NOBODY = "ctm_" + "0" * 26  # well-formed (^ctm_[a-z\d]{26}$); no Paddle account has it
CUSTOMER_ID = os.environ.get("E2E_CUSTOMER_ID") or NOBODY
PORTAL_HOSTS = {"customer-portal.paddle.com", "sandbox-customer-portal.paddle.com"}
CREATED_OR_UNKNOWN = {201, 404} if CUSTOMER_ID != NOBODY else {404}


def _error_body(answer: Answer) -> str:
    """The body for an assertion message, unless it may hold a portal link (success bodies do)."""
    return "<success body withheld>" if answer.status < 300 else answer.body.decode(errors="replace")[:500]


def _is_our_envelope(answer: Answer) -> bool:
    try:
        return isinstance(answer.json().get("error"), dict)
    except (ValueError, AttributeError):
        return False


def test_signed_post_creates_a_session_or_reports_an_unknown_customer(api: DeployedApi) -> None:
    # Given a SigV4-signed POST on the IAM route, no body
    # When it goes through API Gateway to the function and on to Paddle
    answer = api.signed("POST", f"customers/{CUSTOMER_ID}/portal-sessions")

    # Then Paddle's answer comes back: a session, or Paddle's not_found in Paddle's envelope
    assert answer.status in CREATED_OR_UNKNOWN, f"{answer.status}: {_error_body(answer)}"
    assert answer.headers.get("cache-control") == "no-store"
    # No local holds a success body (pytest -l would print it): only the summary's parts are kept.
    if answer.status == 201:
        session_id, request_id, scheme, host = session_summary(answer.json())
        assert session_id.startswith("cpls_")
        assert request_id
        assert scheme == "https"
        assert host in PORTAL_HOSTS
    else:
        error = answer.json()
        assert error["error"]["type"] == "request_error"
        assert error["error"]["code"] == "not_found"
        assert error["meta"]["request_id"]


def test_unsigned_request_is_refused_by_api_gateway(api: DeployedApi) -> None:
    answer = api.request("POST", f"customers/{CUSTOMER_ID}/portal-sessions")

    assert answer.status == 403, f"{answer.status}: {_error_body(answer)}"
    assert not _is_our_envelope(answer), "the function answered: the route is not protected by AWS_IAM"


def test_request_whose_body_differs_from_the_signed_one_is_refused(api: DeployedApi) -> None:
    # Given headers signed for an empty body
    headers = api.signed_headers("POST", f"customers/{CUSTOMER_ID}/portal-sessions", b"")
    # When another body is sent with them
    answer = api.request("POST", f"customers/{CUSTOMER_ID}/portal-sessions", b'{"subscription_ids": []}', headers)
    # Then API Gateway's signature check refuses it before the function runs
    assert answer.status == 403, f"{answer.status}: {_error_body(answer)}"
    assert not _is_our_envelope(answer)


def _invoke(lambda_client: Any, function_name: str, payload: bytes) -> dict[str, Any]:
    response: dict[str, Any] = lambda_client.invoke(FunctionName=function_name, Payload=payload)
    assert response["StatusCode"] == 200  # the invocation ran (whether the function raised or not)
    return response


def _read(response: dict[str, Any]) -> Any:
    return json.loads(response["Payload"].read())


@pytest.mark.parametrize(
    "event",
    ["direct/invalid_customer_id.json", "direct/invalid_unknown_field.json"],
    ids=["bad-customer-id", "unknown-field"],
)
def test_direct_invocation_with_an_invalid_payload_raises_invalid_request_error(
    lambda_client: Any, stack_outputs: dict[str, str], event: str
) -> None:
    response = _invoke(lambda_client, stack_outputs["FunctionName"], (EVENTS / event).read_bytes())

    assert response.get("FunctionError") == "Unhandled"
    error = _read(response)
    assert error["errorType"] == "InvalidRequestError", error.get("errorMessage")


def test_direct_invocation_reaches_paddle(lambda_client: Any, stack_outputs: dict[str, str]) -> None:
    payload = json.dumps({"customer_id": CUSTOMER_ID, "correlation_id": "e2e-direct"}).encode()

    response = _invoke(lambda_client, stack_outputs["FunctionName"], payload)

    if "FunctionError" in response:
        error = _read(response)
        assert error["errorType"] == "CustomerNotFoundError", f"{error['errorType']}: {error.get('errorMessage')}"
    else:
        assert CUSTOMER_ID != NOBODY, "Paddle created a session for a customer that cannot exist"
        session_id, request_id, scheme, host = session_summary(_read(response))
        assert session_id.startswith("cpls_")
        assert request_id
        assert scheme == "https"
        assert host in PORTAL_HOSTS


def test_the_deployed_layer_ships_the_sdk_the_lock_pins(
    aws_session: Any, lambda_client: Any, stack_outputs: dict[str, str]
) -> None:
    """The SDK the deployed function runs is the one the suite tests: boto3 and botocore are in its layer at the
    lock's versions (printed once, with the layer's ARN). Reads the layer through Lambda's API; nothing secret."""
    import io
    import re
    import tomllib
    import zipfile

    import urllib3

    lock = tomllib.loads((EVENTS.parent / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"] if p["name"] in ("boto3", "botocore", "urllib3")}
    configuration = lambda_client.get_function_configuration(FunctionName=stack_outputs["FunctionName"])
    layers = [layer["Arn"] for layer in configuration.get("Layers", []) if "-dependencies:" in layer["Arn"]]
    assert len(layers) == 1, f"no single dependencies layer on the function: {layers}"
    content = lambda_client.get_layer_version_by_arn(Arn=layers[0])["Content"]
    # A presigned URL of the layer's zip, valid for minutes: fetched, never printed.
    archive = urllib3.PoolManager().request("GET", content["Location"], timeout=60).data
    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    shipped = {
        match[1].replace("_", "-"): match[2]
        for name in names
        if (match := re.fullmatch(r"python/([A-Za-z0-9_.]+)-([^-/]+)\.dist-info/METADATA", name))
    }
    print(f"deployed layer {layers[0]}: " + ", ".join(f"{n} {shipped.get(n)}" for n in sorted(locked)))
    assert {name: shipped.get(name) for name in locked} == locked


def test_the_running_function_imports_the_sdk_from_its_layer(
    aws_session: Any, lambda_client: Any, stack_outputs: dict[str, str]
) -> None:
    """The line the function logs when it first loads boto3 (secrets.py): the SDK versions it runs, the folder
    botocore came from and `sys.path`, printed once, so a real deploy settles which copy wins. Reads the function's
    CloudWatch logs; with the Parameters and Secrets extension boto3 is never loaded, and there is no line to read."""
    import time
    import tomllib

    lock = tomllib.loads((EVENTS.parent / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"] if p["name"] in ("boto3", "botocore")}
    configuration = lambda_client.get_function_configuration(FunctionName=stack_outputs["FunctionName"])
    if "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT" in configuration.get("Environment", {}).get("Variables", {}):
        pytest.skip("secrets are read through the extension: the function never loads boto3")
    logs = aws_session.client("logs")
    group = configuration.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{stack_outputs['FunctionName']}"
    events: list[dict[str, Any]] = []
    for _ in range(12):  # a cold start of the tests above wrote it; CloudWatch shows it within a minute
        events = logs.filter_log_events(logGroupName=group, filterPattern='"AWS SDK loaded"', limit=5)["events"]
        if events:
            break
        time.sleep(5)
    assert events, f"no 'AWS SDK loaded' line in {group}"
    line = json.loads(events[-1]["message"])
    print(
        f"deployed function runs boto3 {line['boto3_version']}, botocore {line['botocore_version']} "
        f"from {line['botocore_path']}; sys.path = {line['sys_path']}"
    )
    assert {"boto3": line["boto3_version"], "botocore": line["botocore_version"]} == locked
    assert line["botocore_path"].startswith("/opt/python/")
