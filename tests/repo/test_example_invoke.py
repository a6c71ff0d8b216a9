"""examples/invoke_from_lambda.py against botocore's Stubber for lambda.Invoke: what it sends, what it does with each
errorType the portal function raises (retry, surface, alert, fail), and that no portal link reaches its logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from examples import invoke_from_lambda as example
from tests.support import CUSTOMER_ID, SUBSCRIPTION_ID, link_of, portal_session

FUNCTION_NAME = "paddle-portal-PortalFunction-EXAMPLE"
SESSION = portal_session()
LINK = link_of(SESSION, "overview", None)
RETRYABLE = ["RateLimitedError", "UpstreamError", "UpstreamTimeoutError"]
REQUEST_ID = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"


class JsonEqual:
    """Matches a JSON text by content, not spacing or key order (for Stubber's expected_params)."""

    def __init__(self, expected: Any) -> None:
        self.expected = expected

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str | bytes) and json.loads(other) == self.expected


class Portal:
    """A stubbed Lambda client, and the waits and alerts the example made."""

    def __init__(self) -> None:
        self.client = boto3.client("lambda", region_name="us-east-1")
        self.stubber = Stubber(self.client)
        self.sleeps: list[float] = []
        self.alerts: list[str] = []

    def answers(self, error_type: str | None = None, **expected: Any) -> None:
        """One invocation, expecting this payload (the customer alone unless told), answering the session or raising."""
        document = SESSION if error_type is None else {"errorMessage": "fixed text", "errorType": error_type}
        raw = json.dumps(document).encode()
        response = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(raw), len(raw))}
        if error_type is not None:
            response["FunctionError"] = "Unhandled"
        payload = JsonEqual({"customer_id": CUSTOMER_ID, **expected})
        params = {"FunctionName": FUNCTION_NAME, "InvocationType": "RequestResponse", "Payload": payload}
        self.stubber.add_response("invoke", response, params)

    def call(self, **kwargs: Any) -> dict[str, Any]:
        options = {"client": self.client, "function_name": FUNCTION_NAME, "sleep": self.sleeps.append,
                   "jitter": lambda: 1.0, "alert": lambda error_type, _: self.alerts.append(error_type)}  # fmt: skip
        return example.create_portal_session(CUSTOMER_ID, **(options | kwargs))


@pytest.fixture
def portal(caplog: pytest.LogCaptureFixture) -> Iterator[Portal]:
    caplog.set_level(logging.DEBUG)
    stubbed = Portal()
    with stubbed.stubber:
        yield stubbed
        stubbed.stubber.assert_no_pending_responses()
    assert "pga_" not in caplog.text  # whatever happened, the link (a credential) reached no log line


def test_success_sends_the_payload_and_returns_the_session(portal: Portal, caplog: pytest.LogCaptureFixture) -> None:
    portal.answers(subscription_ids=[SUBSCRIPTION_ID], correlation_id="order-4711")

    assert portal.call(subscription_ids=[SUBSCRIPTION_ID], correlation_id="order-4711") == SESSION
    assert (portal.sleeps, portal.alerts) == ([], [])
    assert SESSION["data"]["id"] in caplog.text  # the session id is what gets logged


@pytest.mark.parametrize("error_type", RETRYABLE)
def test_a_retryable_error_is_retried_with_exponential_backoff_then_given_up(portal: Portal, error_type: str) -> None:
    portal.answers(error_type)
    portal.answers()
    assert portal.call() == SESSION
    assert portal.sleeps == [example.BACKOFF_BASE_SECONDS]

    for _ in range(example.MAX_ATTEMPTS):
        portal.answers(error_type)
    with pytest.raises(example.PortalUnavailableError) as raised:
        portal.call()
    assert raised.value.error_type == error_type
    assert portal.sleeps[1:] == [example.BACKOFF_BASE_SECONDS * 2**n for n in range(example.MAX_ATTEMPTS - 1)]
    assert portal.alerts == []

    # No retry that this invocation could not wait for: less time left than a backoff plus one more call
    portal.answers(error_type)
    with pytest.raises(example.PortalUnavailableError):
        portal.call(time_left=lambda: example.PORTAL_TIMEOUT_SECONDS)
    assert len(portal.sleeps) == example.MAX_ATTEMPTS  # no new wait


@pytest.mark.parametrize(
    ("error_type", "raised_as", "alerted"),
    [
        ("CustomerNotFoundError", example.PortalCustomerNotFoundError, False),  # surfaced: no Paddle account
        ("ConfigurationError", example.PortalMisconfiguredError, True),  # a human must fix it: alert, no retry
        ("InvalidRequestError", example.PortalLinkError, False),  # a bug on one side: fail
        ("InternalError", example.PortalLinkError, False),
        ("Sandbox.Timedout", example.PortalLinkError, False),
    ],
)
def test_other_errors_fail_at_once(portal: Portal, error_type: str, raised_as: type[Exception], alerted: bool) -> None:
    portal.answers(error_type)

    with pytest.raises(example.PortalLinkError) as raised:
        portal.call()

    assert (type(raised.value), raised.value.error_type) == (raised_as, error_type)
    assert (portal.sleeps, portal.alerts) == ([], [error_type] if alerted else [])


def test_the_default_alert_writes_a_marker_line(portal: Portal, caplog: pytest.LogCaptureFixture) -> None:
    portal.answers("ConfigurationError")

    with pytest.raises(example.PortalMisconfiguredError):
        example.create_portal_session(CUSTOMER_ID, client=portal.client, function_name=FUNCTION_NAME)

    assert [r.levelno for r in caplog.records if "PORTAL_MISCONFIGURED" in r.getMessage()] == [logging.ERROR]


@pytest.mark.parametrize("attempt", [1, 2, 3, 10])
def test_backoff_stays_within_its_window(attempt: int) -> None:
    ceiling = min(example.BACKOFF_CAP_SECONDS, example.BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    assert [example.backoff_seconds(attempt, jitter) for jitter in (lambda: 0.0, lambda: 1.0)] == [ceiling / 2, ceiling]


CONTEXT = SimpleNamespace(aws_request_id=REQUEST_ID, get_remaining_time_in_millis=lambda: 60_000)


@pytest.mark.parametrize(
    ("error_type", "answer"), [(None, {"portal_url": LINK}), ("CustomerNotFoundError", {"error": "no_billing_account"})]
)
def test_the_handler_returns_the_link_or_no_billing_account(
    portal: Portal, monkeypatch: pytest.MonkeyPatch, error_type: str | None, answer: dict[str, str]
) -> None:
    monkeypatch.setenv("PORTAL_FUNCTION_NAME", FUNCTION_NAME)
    portal.answers(error_type, correlation_id=REQUEST_ID)

    assert example.handle({"customer_id": CUSTOMER_ID}, CONTEXT, portal.client) == answer
