"""Nothing that grants access leaves the function through its logs, its X-Ray traces or its exceptions. First: the
suite-wide guard (tests/redaction.py) can fail. Then the real handler in a process that looks like Lambda to
Powertools and the X-Ray SDK (tests/security/lambda_sandbox.py), every X-Ray document recorded, for successes,
refusals, Paddle errors and unexpected bugs; with the template's settings and with every debug switch flipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.events import load_event, route_event, signed_query
from tests.redaction import find_leaks, mask
from tests.security.cases import SESSION_PATH, respond_as_paddle
from tests.support import SUBSCRIPTION_ID, paddle_error, portal_session

REPO = Path(__file__).resolve().parents[2]
NOT_FOUND_CUSTOMER = "ctm_" + "n" * 26
LOOKALIKE_HOST_CUSTOMER = "ctm_" + "e" * 26
LOOKALIKE_HOST = "https://customer-portal.paddle.com.evil.test"

# Credentials that arrive *in* events (SigV4 signature and session token, a bearer JWT): never logged either.
EVENT_CREDENTIALS = {
    "a SigV4 Authorization header": "Signature=0000000000000000fa4efa4efa4efa4efa4efa4efa4efa4efa4efa4efa4efa4e",
    "an STS session token": "IQoJb3JpZ2luX2VjEXAMPLEFAKESESSIONTOKEN",
    "a bearer JWT": "RkFLRS1TSUdOQVRVUkUtTk9ULVZBTElE",
}


def secrets_in(text: str) -> list[str]:
    """Everything that must not be in a log line or a trace: the guard's list, any portal link (including a
    look-alike host's), and the caller credentials events carry."""
    found = find_leaks(text)
    if "customer-portal.paddle.com" in text:
        found.append("a portal host")
    found += [name for name, value in EVENT_CREDENTIALS.items() if value in text]
    return found


# --- The guard itself: it must be able to fail. ---

GUARDED_SUITE = """
import logging
import pytest
from aws_lambda_powertools import Logger
from tests.support import API_KEY, PORTAL_TOKEN

logger = Logger(service="paddle-portal")

def test_clean():
    logger.info("Portal session created", session_id="cpls_01h4ge9r64c22exjsx0fy8b48b")

def test_key_in_powertools_log():
    logger.info("calling Paddle", key=API_KEY)

def test_link_in_root_log():
    logging.getLogger("urllib3").warning("GET https://customer-portal.paddle.com/cpl_1?token=x")

def test_token_printed():
    print("token", PORTAL_TOKEN)

def test_key_logged_then_read_by_the_test(capsys):
    logger.error("oops", exc_info=RuntimeError(API_KEY))
    capsys.readouterr()

# The function's own logger, writing to a stream that no capture reads (as when it was built before the capture
# began), and a child logger whose records reach that handler without passing the parent logger's filter: only
# what the handler writes shows the leak.
import io
from paddle_portal.observability import logger as function_logger

function_logger.registered_handler.setStream(io.StringIO())
child_logger = Logger(service="paddle-portal", child=True)

def test_function_logger_clean():
    function_logger.info("Portal session created", session_id="cpls_01h4ge9r64c22exjsx0fy8b48b")

def test_key_in_child_log_written_where_no_capture_reads():
    child_logger.info("calling Paddle", key=API_KEY)

@pytest.mark.allow_secrets_in_output("proves the marker")
def test_allowed():
    print("token", PORTAL_TOKEN)
"""


def test_guard_fails_tests_that_leak_and_only_those(tmp_path):
    # Given a suite whose tests leak in every way the guard watches, plus a clean and an allowed one
    (tmp_path / "test_guarded.py").write_text(GUARDED_SUITE)

    # When it runs with the guard, in its own process (its leaks must not reach this session's own guard)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.redaction", "-p", "no:cacheprovider", "-rA", "test_guarded.py"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO)])},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    result = pytest.RunResult(completed.returncode, completed.stdout.splitlines(), completed.stderr.splitlines(), 0)

    # Then exactly the leaking tests fail, and the report names what leaked without repeating it
    result.assert_outcomes(passed=3, failed=5)
    result.stdout.fnmatch_lines(["*Redaction guard*a Paddle API key*"])
    result.stdout.fnmatch_lines(["*written by the handler of paddle-portal*"])
    leaking = ("key_in_powertools_log", "link_in_root_log", "token_printed", "key_logged_then_read_by_the_test")
    for name in (*leaking, "key_in_child_log_written_where_no_capture_reads"):
        result.stdout.fnmatch_lines([f"FAILED*test_{name}*"])
    assert "FAKEFAKEFAKE" not in "\n".join(line for line in result.outlines if "Redaction guard" in line)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Portal session created cpls_01h4ge9r64c22exjsx0fy8b48b ctm_01gysfvfy7vqhpzkq8rjmrq7an", []),
        ("Bearer pdl_live_apikey_01abc", ["a Paddle API key"]),
        ("?token=pga_abc", ["a portal token"]),
        ("https://sandbox-customer-portal.paddle.com/cpl_01j7", ["a portal URL"]),
    ],
    ids=["clean", "live-key-prefix", "token", "sandbox-portal-url"],
)
def test_guard_patterns(text, expected):
    assert find_leaks(text) == expected
    assert find_leaks(mask(text)) == []


# --- The real handler, traced as in Lambda. ---


DIRECT = load_event("direct/create_session.json")
# name: (event, the answer: a status, "returned" or the class a direct invoker gets raised, a bug planted or not)
INVOCATIONS: dict[str, tuple[dict[str, Any], int | str, bool]] = {
    "jwt_post_201": (route_event("http_api", "jwt_post", "jwt"), 201, False),
    "jwt_get_json_200": (route_event("http_api", "jwt_get", "jwt"), 200, False),
    "iam_get_redirect_302": (load_event("http_api/get_portal_iam.json"), 302, False),
    "rest_cognito_200": (load_event("rest_api/get_portal_cognito.json"), 200, False),
    "direct_success": (DIRECT, "returned", False),
    "link_mint_201": (route_event("http_api", "link_mint", "iam"), 201, False),
    "jwt_link_mint_201": (route_event("http_api", "jwt_mint", "jwt"), 201, False),
    "link_follow_302": (route_event("function_url", "link_follow"), 302, False),
    "link_forged_403": (route_event("http_api", "link_follow", query=signed_query(expires_in=-60)), 403, False),
    "missing_claim_403": (load_event("http_api/get_portal_jwt_missing_claim.json"), 403, False),
    "paddle_404": (route_event("http_api", "iam_post", customer_id=NOT_FOUND_CUSTOMER), 404, False),
    "direct_paddle_404": (DIRECT | {"customer_id": NOT_FOUND_CUSTOMER}, "CustomerNotFoundError", False),
    "lookalike_host_502": (route_event("http_api", "iam_get", customer_id=LOOKALIKE_HOST_CUSTOMER), 502, False),
    "direct_lookalike_host": (DIRECT | {"customer_id": LOOKALIKE_HOST_CUSTOMER}, "UpstreamError", False),
    "unexpected_bug_http": (load_event("http_api/post_portal_sessions_iam.json"), 500, True),
    "unexpected_bug_direct": (DIRECT, "InternalError", True),
}
EXPECTED_ANSWERS = {name: answer for name, (_, answer, _) in INVOCATIONS.items()}
EXPECTED_FINE = [name for name, (_, _, fault) in INVOCATIONS.items() if not fault]
UNEXPECTED_BUGS = [name for name, (_, _, fault) in INVOCATIONS.items() if fault]
DIRECT_FAILURES = ["direct_paddle_404", "direct_lookalike_host"]  # (the success *is* the session, with its links)

# Every switch an operator could flip while debugging: the code must hold its line regardless.
DEBUG_SWITCHES = {
    "POWERTOOLS_LOG_LEVEL": "DEBUG",
    "POWERTOOLS_LOGGER_LOG_EVENT": "true",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "true",
    "POWERTOOLS_TRACER_CAPTURE_ERROR": "true",
    "POWERTOOLS_DEBUG": "true",
}


@pytest.fixture(scope="module")
def paddle_server() -> Iterator[HTTPServer]:
    """Paddle for the sandbox process: a session for every customer, except one unknown customer (404) and one
    whose links point at a look-alike host."""
    from werkzeug import Response

    server = HTTPServer(host="127.0.0.1")
    server.start()
    server.expect_request(f"/customers/{NOT_FOUND_CUSTOMER}/portal-sessions").respond_with_json(
        paddle_error("entity_not_found"), status=404
    )
    lookalike = portal_session(LOOKALIKE_HOST_CUSTOMER, (SUBSCRIPTION_ID,), host=LOOKALIKE_HOST)
    server.expect_request(f"/customers/{LOOKALIKE_HOST_CUSTOMER}/portal-sessions").respond_with_response(
        Response(json.dumps(lookalike), status=201, content_type="application/json")
    )
    server.expect_request(SESSION_PATH, method="POST").respond_with_handler(respond_as_paddle)
    yield server
    server.clear()
    server.stop()


@pytest.fixture(scope="module")
def run_sandbox(paddle_server: HTTPServer, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, Any]]:
    def run(env: dict[str, str]) -> dict[str, Any]:
        folder = tmp_path_factory.mktemp("sandbox")
        plan = {
            "env": env,
            "invocations": [
                {"name": name, "event": event, "fault": fault} for name, (event, _, fault) in INVOCATIONS.items()
            ],
        }
        plan_file, out_file = folder / "plan.json", folder / "out.json"
        plan_file.write_text(json.dumps(plan))
        completed = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tests.security.lambda_sandbox", str(plan_file), str(out_file)],
            cwd=REPO,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO)]),
                "PADDLE_API_BASE_URL": paddle_server.url_for("").rstrip("/"),
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, mask(completed.stderr[-3000:])
        result: dict[str, Any] = json.loads(out_file.read_text())
        result["by_name"] = {item["name"]: item for item in result["invocations"]}
        return result

    return run


@pytest.fixture(scope="module")
def as_deployed(run_sandbox: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The template's settings (log level INFO, no event logging, no response capture)."""
    return run_sandbox({"POWERTOOLS_LOG_LEVEL": "INFO"})


@pytest.fixture(scope="module")
def debugging(run_sandbox: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return run_sandbox(DEBUG_SWITCHES)


def _answer(result: dict[str, Any]) -> int | str:
    if "raised" in result:
        return str(result["raised"])
    returned = result["returned"]
    answer: int | str = returned.get("statusCode", "returned")
    return answer


def _subsegments(document: str) -> Iterator[dict[str, Any]]:
    pending = [json.loads(document)]
    while pending:
        entity = pending.pop()
        yield entity
        pending.extend(entity.get("subsegments", []))


def test_sandbox_answers_and_traces_like_lambda(as_deployed):
    # The checks below mean something only if tracing was really on and every case went where it should.
    assert as_deployed["tracer_disabled"] is False
    assert {name: _answer(result) for name, result in as_deployed["by_name"].items()} == EXPECTED_ANSWERS
    names = {
        entity["name"]
        for document in as_deployed["by_name"]["jwt_post_201"]["segments"]
        for entity in _subsegments(document)
    }
    assert {"## lambda_handler", "## paddle_portal.portal.open_portal_session", "secretsmanager"} <= names, names


def test_a_captured_response_would_be_seen(as_deployed):
    # A method traced with Powertools' defaults records its response: the scan of the documents catches that.
    assert any(find_leaks(document) for document in as_deployed["canary"])


@pytest.mark.parametrize("name", EXPECTED_FINE)
def test_traces_hold_no_key_token_or_link(name, as_deployed):
    result = as_deployed["by_name"][name]

    leaks = [secrets_in(document) for document in result["segments"]]

    assert result["segments"]
    assert not any(leaks), mask(json.dumps(result["segments"]))[:3000]


@pytest.mark.parametrize("name", EXPECTED_FINE)
def test_no_response_becomes_trace_metadata(name, as_deployed):
    keys = [
        key
        for document in as_deployed["by_name"][name]["segments"]
        for entity in _subsegments(document)
        for namespace in entity.get("metadata", {}).values()
        for key in namespace
    ]

    assert not [key for key in keys if key.endswith(" response")], keys


@pytest.mark.parametrize("name", EXPECTED_FINE)
def test_logs_hold_no_key_token_link_or_caller_credentials(name, as_deployed):
    logs = as_deployed["by_name"][name]["logs"]

    assert '"level"' in logs  # the function did log something for every case
    assert not secrets_in(logs), mask(logs)[:3000]


@pytest.mark.parametrize("name", DIRECT_FAILURES)
def test_errors_raised_to_direct_invokers_hold_no_secret(name, as_deployed):
    result = as_deployed["by_name"][name]

    assert result["raised"] == EXPECTED_ANSWERS[name]
    for text in (result.get("message", ""), result.get("repr", "")):
        assert not secrets_in(text), mask(text)


@pytest.mark.parametrize("name", UNEXPECTED_BUGS)
def test_unexpected_bug_leaves_no_secret_in_logs(name, as_deployed):
    # Given a bug whose exception message holds the key and a portal link (the message of an exception nobody
    # anticipated can hold anything), the function logs the type and the stack to find the bug, not the message
    result = as_deployed["by_name"][name]

    assert "RuntimeError" in result["logs"]
    assert not secrets_in(result["logs"]), mask(result["logs"])[:3000]


@pytest.mark.parametrize("name", UNEXPECTED_BUGS)
def test_unexpected_bug_leaves_no_secret_in_traces(name, as_deployed):
    result = as_deployed["by_name"][name]

    leaks = [secrets_in(document) for document in result["segments"]]

    assert not any(leaks), mask(json.dumps(result["segments"]))[:3000]
    assert not secrets_in(result.get("message", "") + json.dumps(result.get("returned", {})))


def test_debug_switches_leak_nothing(debugging):
    # Given an operator who turned on every Powertools debug switch (log level, event logging, response capture)
    leaks = {}
    for name in EXPECTED_FINE:
        result = debugging["by_name"][name]
        assert _answer(result) == EXPECTED_ANSWERS[name]
        found = secrets_in(result["logs"]) + [
            f"trace: {leak}" for document in result["segments"] for leak in secrets_in(document)
        ]
        if found:
            leaks[name] = sorted(set(found))

    # Then the code's explicit choices win: still no key, link, token or caller credential in logs or traces
    assert leaks == {}
