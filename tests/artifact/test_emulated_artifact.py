"""The built artifact, laid out as in Lambda, on aarch64 CPython 3.13 through awslambdaric: it imports from its own
bytecode, runs the SDK it ships, answers direct payloads and every events/ file as the in-process suite expects, and
what a direct invoker gets of a failure carries nothing secret."""

from __future__ import annotations

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


def loaded_from(emulated: Emulated, package: str) -> set[str]:
    """The sys.path folders the top-level `package` was loaded from (not copies vendored inside other packages)."""
    suffix = re.compile(rf"/{package}/(__pycache__/)?__init__[.a-z0-9-]*\.pyc?$")
    found = {suffix.sub("", path) for path in CODE_OBJECT.findall(emulated.output_text()) if suffix.search(path)}
    return {folder for folder in found if "/vendored/" not in folder}


def test_a_direct_payload_returns_a_session_from_the_artifacts_own_bytecode_and_sdk(emulated: Emulated) -> None:
    # When a direct invocation asks for a session (the API key is read through boto3 from Secrets Manager)
    invocation = emulated.invoke(load_event("direct/create_session.json"))

    # Then it answers the session, Paddle having been asked for that customer
    assert invocation.error_type is None, mask(invocation.body.decode())
    assert invocation.json()["data"]["customer_id"] == CUSTOMER_ID
    assert any(r.path == f"/customers/{CUSTOMER_ID}/portal-sessions" for r in emulated.paddle.requests)
    # And the handler came from /var/task and its dependencies from /opt, through their bytecode: no module of the
    # artifact was compiled from source at this cold start (/var/task and /opt are read-only)
    ours = [path for path in CODE_OBJECT.findall(emulated.output_text()) if path.startswith(("/var/task/", "/opt/"))]
    assert any(path.startswith("/var/task/paddle_portal/__pycache__/app.") for path in ours), ours[:5]
    assert any(path.startswith("/opt/python/pydantic_core/") for path in ours), ours[:5]
    assert [path for path in ours if path.endswith(".py")] == []
    # And the SDK that read the secret is the layer's, not a runtime's
    for package in ("boto3", "botocore", "urllib3"):
        assert loaded_from(emulated, package) == {"/opt/python"}, package
    print(f"init (import of the handler, emulated): {emulated.init_seconds:.1f} s")


@pytest.mark.parametrize(
    ("payload", "error_type"),
    [
        pytest.param(["not", "an", "object"], "InvalidRequestError", id="not-an-object"),
        pytest.param({"customer_id": OTHER_CUSTOMER_ID, "subscription_ids": [SUBSCRIPTION_ID]}, "CustomerNotFoundError",
                     id="paddle-refuses"),
    ],
)  # fmt: skip
def test_a_failing_direct_payload_reaches_the_invoker_as_lambda_sends_it(
    emulated: Emulated, payload: object, error_type: str
) -> None:
    emulated.paddle.unknown_customers.add(OTHER_CUSTOMER_ID)  # Paddle answers 404 for this one

    invocation = emulated.invoke(payload)

    # Lambda's FunctionError "Unhandled", and the body a synchronous invoker receives (awslambdaric's make_error)
    assert invocation.error_type == "Unhandled", mask(invocation.body.decode())
    error = invocation.json()
    assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert (error["requestId"], error["errorType"]) == (invocation.request_id, error_type)
    assert all(isinstance(frame, str) for frame in error["stackTrace"])
    assert find_leaks(invocation.body.decode()) == []  # no API key, portal link or token, even in the stack trace


@pytest.mark.parametrize("name", EVENT_FILES)
def test_every_event_file_gets_its_expected_outcome(emulated: Emulated, name: str) -> None:
    expected = EXPECTED[name]
    invocation = emulated.invoke(load_event(name))
    text = mask(invocation.body.decode())

    if expected.raises is not None:
        assert (invocation.error_type, invocation.json()["errorType"]) == ("Unhandled", expected.raises), text
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
    emulated.invoke(load_event("http_api/post_portal_sessions_iam.json"))

    output = emulated.output_text()  # everything the runtime process wrote so far (after the invocations above)
    assert '"level":"INFO"' in output  # the function's JSON logs are in this output
    assert find_leaks(output) == []
