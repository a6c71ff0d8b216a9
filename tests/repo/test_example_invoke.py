"""examples/invoke_from_lambda.py against botocore's Stubber for lambda.Invoke: what it sends, and what it does with
each errorType the portal function raises (retry, surface, alert, fail) - and that no portal link reaches its logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from examples import invoke_from_lambda as example
from examples.invoke_from_lambda import (
    PortalCustomerNotFoundError,
    PortalLinkError,
    PortalMisconfiguredError,
    PortalUnavailableError,
    create_portal_session,
    handle,
)

FUNCTION_NAME = "paddle-portal-PortalFunction-EXAMPLE"
CUSTOMER = "ctm_01gysfvfy7vqhpzkq8rjmrq7an"
SUBSCRIPTION = "sub_01h04vsc0qhwtsbsxh3422wjs4"
LINK = "https://customer-portal.paddle.com/cpl_01j7zbyqs3vah3aafp4jf62qaw?action=overview&token=pga_FAKEFAKEFAKEFAKE"
SESSION: dict[str, Any] = {
    "data": {
        "id": "cpls_01h4ge9r64c22exjsx0fy8b48b",
        "customer_id": CUSTOMER,
        "urls": {"general": {"overview": LINK}, "subscriptions": []},
        "created_at": "2024-10-02T10:35:44.512Z",
    },
    "meta": {"request_id": "9f0a7bc2-5d8e-4f7b-9c1e-2a6b3c4d5e6f"},
}
RETRYABLE = ["RateLimitedError", "UpstreamError", "UpstreamTimeoutError"]


class JsonEqual:
    """Matches a JSON text by content, not by spacing or key order (for Stubber's expected_params)."""

    def __init__(self, expected: Any) -> None:
        self.expected = expected

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str | bytes) and json.loads(other) == self.expected

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"JSON {self.expected!r}"


def _payload(document: Any) -> StreamingBody:
    raw = json.dumps(document).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def _error(error_type: str, message: str = "fixed text [request_id 5b1e9c6a]") -> dict[str, Any]:
    """What Lambda returns to the invoker when the Python function raised."""
    return {"errorMessage": message, "errorType": error_type, "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}


class Portal:
    """A stubbed Lambda client plus the recordings the branching is judged on."""

    def __init__(self) -> None:
        self.client = boto3.client("lambda", region_name="us-east-1")
        self.stubber = Stubber(self.client)
        self.sleeps: list[float] = []
        self.alerts: list[tuple[str, str]] = []

    def answers(self, document: Any, *, expected: dict[str, Any] | None = None) -> None:
        self._add({"StatusCode": 200, "Payload": _payload(document), "ExecutedVersion": "$LATEST"}, expected)

    def raises(self, error_type: str, *, expected: dict[str, Any] | None = None) -> None:
        response = {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _payload(_error(error_type))}
        self._add(response, expected)

    def _add(self, response: dict[str, Any], expected: dict[str, Any] | None) -> None:
        params = {
            "FunctionName": FUNCTION_NAME,
            "InvocationType": "RequestResponse",
            "Payload": JsonEqual(expected or {"customer_id": CUSTOMER}),
        }
        self.stubber.add_response("invoke", response, params)

    def call(self, **kwargs: Any) -> dict[str, Any]:
        options: dict[str, Any] = {
            "client": self.client,
            "function_name": FUNCTION_NAME,
            "sleep": self.sleeps.append,
            "jitter": lambda: 1.0,  # the top of each backoff window
            "alert": lambda error_type, message: self.alerts.append((error_type, message)),
        }
        return create_portal_session(CUSTOMER, **(options | kwargs))


@pytest.fixture
def portal() -> Iterator[Portal]:
    stubbed = Portal()
    with stubbed.stubber:
        yield stubbed
        stubbed.stubber.assert_no_pending_responses()


@pytest.fixture(autouse=True)
def _capture_example_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    # Whatever happened, the link (a credential) never reached a log line.
    assert "pga_" not in caplog.text
    assert LINK not in caplog.text


def test_success_returns_the_session_after_one_call(portal: Portal, caplog: pytest.LogCaptureFixture) -> None:
    portal.answers(SESSION)

    assert portal.call() == SESSION
    assert portal.sleeps == []
    assert SESSION["data"]["id"] in caplog.text  # the session id is what gets logged


def test_payload_carries_subscriptions_and_correlation_id(portal: Portal) -> None:
    portal.answers(
        SESSION,
        expected={"customer_id": CUSTOMER, "subscription_ids": [SUBSCRIPTION], "correlation_id": "order-4711"},
    )

    portal.call(subscription_ids=[SUBSCRIPTION], correlation_id="order-4711")


@pytest.mark.parametrize("error_type", RETRYABLE)
def test_retryable_error_is_retried_after_a_backoff(portal: Portal, error_type: str) -> None:
    # Given the portal function fails once with a retryable error, then succeeds
    portal.raises(error_type)
    portal.answers(SESSION)

    # When the example calls it, Then it waited once and returns the second answer
    assert portal.call() == SESSION
    assert portal.sleeps == [example.BACKOFF_BASE_SECONDS]
    assert portal.alerts == []


@pytest.mark.parametrize("error_type", RETRYABLE)
def test_retryable_error_gives_up_after_the_last_attempt(portal: Portal, error_type: str) -> None:
    for _ in range(example.MAX_ATTEMPTS):
        portal.raises(error_type)

    with pytest.raises(PortalUnavailableError) as raised:
        portal.call()

    assert raised.value.error_type == error_type
    # Exponential: one wait between each two attempts, each twice the one before.
    assert portal.sleeps == [example.BACKOFF_BASE_SECONDS * 2**n for n in range(example.MAX_ATTEMPTS - 1)]
    assert portal.alerts == []


def test_no_retry_that_this_invocation_could_not_wait_for(portal: Portal) -> None:
    portal.raises("UpstreamError")

    with pytest.raises(PortalUnavailableError):
        portal.call(time_left=lambda: example.PORTAL_TIMEOUT_SECONDS)  # less than a backoff plus one more call

    assert portal.sleeps == []


def test_customer_not_found_is_surfaced_at_once(portal: Portal) -> None:
    portal.raises("CustomerNotFoundError")

    with pytest.raises(PortalCustomerNotFoundError) as raised:
        portal.call()

    assert raised.value.error_type == "CustomerNotFoundError"
    assert portal.sleeps == []
    assert portal.alerts == []


def test_configuration_error_alerts_and_is_not_retried(portal: Portal) -> None:
    portal.raises("ConfigurationError")

    with pytest.raises(PortalMisconfiguredError):
        portal.call()

    assert [error_type for error_type, _ in portal.alerts] == ["ConfigurationError"]
    assert portal.sleeps == []


@pytest.mark.parametrize("error_type", ["InvalidRequestError", "InternalError", "Sandbox.Timedout"])
def test_other_errors_fail_without_retry_or_alert(portal: Portal, error_type: str) -> None:
    portal.raises(error_type)

    with pytest.raises(PortalLinkError) as raised:
        portal.call()

    assert type(raised.value) is PortalLinkError
    assert raised.value.error_type == error_type
    assert portal.sleeps == []
    assert portal.alerts == []


def test_default_alert_writes_a_marker_line(portal: Portal, caplog: pytest.LogCaptureFixture) -> None:
    portal.raises("ConfigurationError")

    with pytest.raises(PortalMisconfiguredError):
        create_portal_session(CUSTOMER, client=portal.client, function_name=FUNCTION_NAME)

    assert [r.levelno for r in caplog.records if "PORTAL_MISCONFIGURED" in r.getMessage()] == [logging.ERROR]


@pytest.mark.parametrize("attempt", [1, 2, 3, 10])
def test_backoff_stays_within_its_window(attempt: int) -> None:
    ceiling = min(example.BACKOFF_CAP_SECONDS, example.BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    assert example.backoff_seconds(attempt, lambda: 0.0) == ceiling / 2
    assert example.backoff_seconds(attempt, lambda: 1.0) == ceiling


class Context:
    aws_request_id = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def test_handler_returns_the_link_to_its_caller(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_FUNCTION_NAME", FUNCTION_NAME)
    portal.answers(SESSION, expected={"customer_id": CUSTOMER, "correlation_id": Context.aws_request_id})

    assert handle({"customer_id": CUSTOMER}, Context(), portal.client) == {"portal_url": LINK}


def test_handler_turns_an_unknown_customer_into_an_answer(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_FUNCTION_NAME", FUNCTION_NAME)
    portal.raises("CustomerNotFoundError", expected={"customer_id": CUSTOMER, "correlation_id": Context.aws_request_id})

    assert handle({"customer_id": CUSTOMER}, Context(), portal.client) == {"error": "no_billing_account"}
