"""The built artifact, laid out as in Lambda, on aarch64 CPython 3.13 through awslambdaric: it imports from its own
bytecode, runs the SDK it ships, answers direct payloads and every events/ file as the in-process suite expects, and
a direct invoker's error carries nothing secret."""

from __future__ import annotations

import json
import re

import pytest

from tests.artifact.conftest import LINK_BASE_URL, Emulated
from tests.events import load_event
from tests.integration.checks import assert_error, body_of
from tests.integration.test_events import EVENT_FILES, EXPECTED
from tests.redaction import find_leaks, mask
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, SUBSCRIPTION_ID

# python -v: "# code object from '<file>'" for each module; a .py file there was compiled at this start.
CODE_OBJECT = re.compile(r"^# code object from '([^']+)'", re.MULTILINE)
ERROR_KEYS = {"errorMessage", "errorType", "requestId", "stackTrace"}  # awslambdaric's make_error, as Lambda sends it


def loaded_from(emulated: Emulated, package: str) -> set[str]:
    """The sys.path folders the emulated process loaded the top-level `package` from (copies vendored inside other
    packages, such as botocore's urllib3, are not top-level)."""
    suffix = re.compile(rf"/{package}/(__pycache__/)?__init__[.a-z0-9-]*\.pyc?$")
    found = {re.sub(suffix, "", path) for path in CODE_OBJECT.findall(emulated.output_text()) if suffix.search(path)}
    return {folder for folder in found if "/vendored/" not in folder}


def test_the_artifact_imports_from_its_own_bytecode(emulated: Emulated) -> None:
    code = CODE_OBJECT.findall(emulated.output_text())
    ours = [path for path in code if path.startswith(("/var/task/", "/opt/"))]

    # The handler came from /var/task and its dependencies from /opt, through their bytecode
    assert any(path.startswith("/var/task/paddle_portal/__pycache__/app.") for path in ours), ours[:5]
    assert any(path.startswith("/opt/python/pydantic_core/") for path in ours), ours[:5]
    # and no module of the artifact was compiled from source at this cold start (/var/task and /opt are read-only)
    compiled = [path for path in ours if path.endswith(".py")]
    assert compiled == []
    print(f"init (import of the handler, emulated): {emulated.init_seconds:.1f} s")


def test_a_direct_payload_returns_a_session_using_the_shipped_sdk(emulated: Emulated) -> None:
    # When a direct invocation asks for a session (the API key is read through boto3 from Secrets Manager)
    invocation = emulated.invoke(load_event("direct/create_session.json"))

    # Then it answers the session, Paddle having been asked for that customer
    assert invocation.error_type is None, mask(invocation.body.decode())
    answer = invocation.json()
    assert answer["data"]["customer_id"] == CUSTOMER_ID
    assert any(r.path == f"/customers/{CUSTOMER_ID}/portal-sessions" for r in emulated.paddle.requests)
    # And the SDK that read the secret is the layer's, not a runtime's
    assert loaded_from(emulated, "boto3") == {"/opt/python"}
    assert loaded_from(emulated, "botocore") == {"/opt/python"}
    assert loaded_from(emulated, "urllib3") == {"/opt/python"}


@pytest.mark.parametrize(
    ("payload", "error_type"),
    [
        pytest.param(load_event("direct/invalid_customer_id.json"), "InvalidRequestError", id="invalid-customer-id"),
        pytest.param(["not", "an", "object"], "InvalidRequestError", id="not-an-object"),
        pytest.param(
            {"customer_id": OTHER_CUSTOMER_ID, "subscription_ids": [SUBSCRIPTION_ID]}, None, id="paddle-refuses"
        ),
    ],
)
def test_a_failing_direct_payload_reaches_the_invoker_as_lambda_sends_it(
    emulated: Emulated, payload: object, error_type: str | None
) -> None:
    emulated.paddle.unknown_customers.add(OTHER_CUSTOMER_ID)  # Paddle answers 404 for this one

    invocation = emulated.invoke(payload)

    # Lambda's FunctionError "Unhandled", and the body a synchronous invoker receives
    assert invocation.error_type == "Unhandled", mask(invocation.body.decode())
    error = invocation.json()
    assert set(error) == ERROR_KEYS
    assert error["requestId"] == invocation.request_id
    assert re.fullmatch(r"[A-Z][A-Za-z]+Error", error["errorType"])
    if error_type is not None:
        assert error["errorType"] == error_type
    assert all(isinstance(frame, str) for frame in error["stackTrace"])
    # Nothing secret in the message or the stack trace's source lines: no API key, portal link or token
    assert find_leaks(invocation.body.decode()) == []


@pytest.mark.parametrize("name", EVENT_FILES)
def test_every_event_file_gets_its_expected_outcome(emulated: Emulated, name: str) -> None:
    expected = EXPECTED[name]
    invocation = emulated.invoke(load_event(name))
    text = mask(invocation.body.decode())

    if expected.raises is not None:
        assert invocation.error_type == "Unhandled", text
        assert invocation.json()["errorType"] == expected.raises
        assert find_leaks(invocation.body.decode()) == []
        return
    assert invocation.error_type is None, text
    result = invocation.json()
    if expected.status is None:  # a direct payload answered
        if expected.minted is not None and expected.link_base_url == LINK_BASE_URL:
            assert result["data"]["url"].startswith(expected.minted), text
        else:
            assert set(result) == {"data", "meta"}, text
        return
    assert result["statusCode"] == expected.status, text
    if expected.code is not None and not expected.page:
        error = assert_error(result, expected.status, expected.code, fields=bool(expected.fields))
        assert {item["field"] for item in error.get("errors", ())} == expected.fields
    elif expected.status in (200, 201) and expected.minted is None:
        assert body_of(result)["data"]["customer_id"] == CUSTOMER_ID


def test_the_function_logs_carry_no_secret(emulated: Emulated) -> None:
    # Runs after the invocations above (same process): everything the runtime process wrote so far
    emulated.invoke(load_event("http_api/post_portal_sessions_iam.json"))

    output = emulated.output_text()

    assert '"level":"INFO"' in output  # the function's JSON logs are in this output
    assert find_leaks(output) == [], json.dumps(find_leaks(output))
