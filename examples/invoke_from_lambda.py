"""Another Lambda function calling the portal function directly (lambda:InvokeFunction).

Setup: attach the stack's `InvokePolicyArn` output to this function's role (it allows lambda:InvokeFunction on the
portal function only) and set PORTAL_FUNCTION_NAME to the `FunctionName` output. Give this function a timeout above
the portal function's 15 s, plus room for the retries below.

What the portal function's failures mean here (its `errorType` values are stable class names):

| errorType | What this caller does |
|---|---|
| RateLimitedError, UpstreamError, UpstreamTimeoutError | Paddle busy or unreachable: retry with backoff, then give up |
| CustomerNotFoundError | surface it: this customer has no Paddle account (or not those subscriptions) |
| ConfigurationError | alert a human (secret missing, key rejected), do not retry: it will not fix itself |
| InvalidRequestError, InternalError, anything else | a bug on one side: fail without retrying |

A portal link is a short-lived credential: hand it to the customer, never log or store it.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

logger = logging.getLogger(__name__)

RETRYABLE = frozenset({"RateLimitedError", "UpstreamError", "UpstreamTimeoutError"})
# The portal function already retried Paddle inside its own 10 s budget, so these retries are few and spaced out:
# Paddle's rate limit is counted per minute.
MAX_ATTEMPTS = 3
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 10.0
# One more attempt can take the portal function's whole timeout; do not start one that this invocation cannot wait for.
PORTAL_TIMEOUT_SECONDS = 15.0


class PortalLinkError(Exception):
    """The portal function failed. `error_type` is its errorType; the message is its (sanitized) errorMessage."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type


class PortalCustomerNotFoundError(PortalLinkError):
    """Paddle has no such customer (or not the subscriptions asked for)."""


class PortalUnavailableError(PortalLinkError):
    """Paddle stayed busy or unreachable through every attempt: try again later."""


class PortalMisconfiguredError(PortalLinkError):
    """The portal function's own setup is broken; someone has been alerted."""


def alert_operators(error_type: str, message: str) -> None:
    """Replace with your paging (SNS, PagerDuty, ...). An ERROR line with a fixed marker also works with a
    CloudWatch metric filter on `PORTAL_MISCONFIGURED`."""
    logger.error("PORTAL_MISCONFIGURED %s: %s", error_type, message)


def backoff_seconds(attempt: int, jitter: Callable[[], float] = random.random) -> float:
    """Capped exponential backoff with jitter (half fixed, half random) so that callers do not retry in step."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** (attempt - 1))
    return ceiling / 2 + jitter() * ceiling / 2


def create_portal_session(
    customer_id: str,
    *,
    client: Any,
    function_name: str,
    subscription_ids: Sequence[str] = (),
    correlation_id: str | None = None,
    time_left: Callable[[], float] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
    alert: Callable[[str, str], None] = alert_operators,
) -> dict[str, Any]:
    """Invoke the portal function; its answer is `{"data": <Paddle's portal session>, "meta": {"request_id"}}`.

    `time_left` (seconds left of this invocation, e.g. from `context.get_remaining_time_in_millis()`) stops the
    retries before this function itself would time out.
    """
    payload: dict[str, Any] = {"customer_id": customer_id}
    if subscription_ids:
        payload["subscription_ids"] = list(subscription_ids)
    if correlation_id:
        payload["correlation_id"] = correlation_id  # shows up in the portal function's logs
    body = json.dumps(payload)

    for attempt in range(1, MAX_ATTEMPTS + 1):
        response = client.invoke(FunctionName=function_name, InvocationType="RequestResponse", Payload=body)
        result = json.loads(response["Payload"].read())
        if "FunctionError" not in response:
            logger.info(
                "Portal session %s for %s (Paddle request %s, attempt %d)",
                result["data"]["id"],
                customer_id,
                result["meta"]["request_id"],
                attempt,
            )
            return dict(result)

        error_type = str(result.get("errorType", "Unknown"))
        message = str(result.get("errorMessage", ""))  # fixed texts and ids only: the function never puts links in it
        if error_type == "CustomerNotFoundError":
            raise PortalCustomerNotFoundError(error_type, message)
        if error_type == "ConfigurationError":
            alert(error_type, message)
            raise PortalMisconfiguredError(error_type, message)
        if error_type not in RETRYABLE:
            raise PortalLinkError(error_type, message)

        delay = backoff_seconds(attempt, jitter)
        out_of_time = time_left is not None and time_left() < delay + PORTAL_TIMEOUT_SECONDS
        if attempt == MAX_ATTEMPTS or out_of_time:
            raise PortalUnavailableError(error_type, message)
        logger.warning("Portal function answered %s for %s; retrying in %.1f s", error_type, customer_id, delay)
        sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def handle(event: dict[str, Any], context: Any, client: Any) -> dict[str, Any]:
    """Behind your own authenticated API: `customer_id` comes from your user record, never from the browser."""
    try:
        session = create_portal_session(
            event["customer_id"],
            client=client,
            function_name=os.environ["PORTAL_FUNCTION_NAME"],
            correlation_id=context.aws_request_id,
            time_left=lambda: context.get_remaining_time_in_millis() / 1000,
        )
    except PortalCustomerNotFoundError:
        return {"error": "no_billing_account"}  # e.g. offer a checkout instead of the portal
    # The link goes back to the customer's browser and nowhere else.
    return {"portal_url": session["data"]["urls"]["general"]["overview"]}


@lru_cache(maxsize=1)
def _lambda_client() -> Any:
    # The read timeout outlasts the portal function's 15 s timeout. botocore's own retries cover throttling and
    # transient errors of the Invoke API itself (not the function's errors, which are handled above).
    config = Config(connect_timeout=5, read_timeout=20, retries={"mode": "standard", "max_attempts": 3})
    return boto3.client("lambda", config=config)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, _lambda_client())
