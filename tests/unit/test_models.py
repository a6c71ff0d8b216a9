"""The strict input models: what a POST body, a GET query, a path and a direct payload may hold."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from paddle_portal.direct import DirectInvocation
from paddle_portal.http_api.bodies import CreateSessionBody, CustomerPath, PortalQuery
from paddle_portal.http_api.events import HttpApiEvent
from paddle_portal.http_api.rest_events import RestApiEvent
from paddle_portal.validation import MAX_SUBSCRIPTION_IDS
from tests.events import EVENTS, load_event
from tests.support import CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID


def sub_ids(count: int) -> list[str]:
    return [f"sub_{index:026d}" for index in range(count)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param({}, [], id="empty-object"),
        pytest.param({"subscription_ids": []}, [], id="empty-list"),
        pytest.param({"subscription_ids": [SUBSCRIPTION_ID]}, [SUBSCRIPTION_ID], id="one-id"),
        pytest.param({"subscription_ids": sub_ids(MAX_SUBSCRIPTION_IDS)}, sub_ids(25), id="25-ids"),
        pytest.param(
            {"subscription_ids": [OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID]},
            [OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID],
            id="order-kept",
        ),
    ],
)
def test_create_session_body_accepts(body: dict[str, Any], expected: list[str]) -> None:
    assert CreateSessionBody.model_validate(body).subscription_ids == expected


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"subscription_ids": sub_ids(26)}, id="26-ids"),
        pytest.param({"subscription_ids": [SUBSCRIPTION_ID, SUBSCRIPTION_ID]}, id="duplicates"),
        pytest.param({"subscription_ids": ["sub_bad"]}, id="short-id"),
        pytest.param({"subscription_ids": [SUBSCRIPTION_ID.upper()]}, id="upper-case-id"),
        pytest.param({"subscription_ids": ["ctm_01gysfvfy7vqhpzkq8rjmrq7an"]}, id="customer-id-as-subscription"),
        pytest.param({"subscription_ids": [SUBSCRIPTION_ID + "\n"]}, id="trailing-newline"),
        pytest.param({"subscription_ids": ["sub_" + "\u0661" * 26]}, id="non-ascii-digits"),
        pytest.param({"subscription_ids": [SUBSCRIPTION_ID + "0"]}, id="27-characters"),
        pytest.param({"subscription_ids": SUBSCRIPTION_ID}, id="string-not-list"),
        pytest.param({"subscription_ids": None}, id="null"),
        pytest.param({"subscription_ids": [1]}, id="number-in-list"),
        pytest.param({"subscription_ids": [], "customer_id": CUSTOMER_ID}, id="unknown-field-customer_id"),
        pytest.param({"extra": 1}, id="unknown-field"),
    ],
)
def test_create_session_body_refuses(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CreateSessionBody.model_validate(body)


@pytest.mark.parametrize(
    ("query", "action", "subscription_id"),
    [
        pytest.param({}, "overview", None, id="defaults"),
        pytest.param({"action": "overview"}, "overview", None, id="overview"),
        pytest.param(
            {"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID},
            "cancel_subscription",
            SUBSCRIPTION_ID,
            id="cancel",
        ),
        pytest.param(
            {"action": "update_subscription_payment_method", "subscription_id": SUBSCRIPTION_ID},
            "update_subscription_payment_method",
            SUBSCRIPTION_ID,
            id="update-payment-method",
        ),
    ],
)
def test_portal_query_accepts(query: dict[str, str], action: str, subscription_id: str | None) -> None:
    parsed = PortalQuery.model_validate(query)

    assert (parsed.action, parsed.subscription_id) == (action, subscription_id)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"action": "delete"}, id="unknown-action"),
        pytest.param({"action": "Overview"}, id="action-wrong-case"),
        pytest.param({"action": ""}, id="empty-action"),
        pytest.param({"subscription_id": "sub_bad"}, id="bad-subscription-id"),
        pytest.param({"subscription_id": ""}, id="empty-subscription-id"),
        pytest.param({"customer_id": CUSTOMER_ID}, id="customer_id-not-a-query-field"),
    ],
)
def test_portal_query_refuses(query: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        PortalQuery.model_validate(query)


@pytest.mark.parametrize(
    ("customer_id", "valid"),
    [
        pytest.param(CUSTOMER_ID, True, id="valid"),
        pytest.param("cus_123", False, id="other-prefix"),
        pytest.param(CUSTOMER_ID.upper(), False, id="upper-case"),
        pytest.param(CUSTOMER_ID[:-1], False, id="25-characters"),
        pytest.param(CUSTOMER_ID + "\n", False, id="trailing-newline"),
        pytest.param("ctm_01gysfvfy7vqhpzkq8rjmrq7a/", False, id="slash"),
        pytest.param("", False, id="empty"),
    ],
)
def test_customer_path(customer_id: str, valid: bool) -> None:
    if valid:
        assert CustomerPath.model_validate({"customer_id": customer_id}).customer_id == customer_id
    else:
        with pytest.raises(ValidationError):
            CustomerPath.model_validate({"customer_id": customer_id})


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"customer_id": CUSTOMER_ID}, id="minimal"),
        pytest.param({"customer_id": CUSTOMER_ID, "subscription_ids": [SUBSCRIPTION_ID]}, id="with-ids"),
        pytest.param({"customer_id": CUSTOMER_ID, "correlation_id": "order-4711"}, id="with-correlation-id"),
        pytest.param({"customer_id": CUSTOMER_ID, "correlation_id": None}, id="null-correlation-id"),
    ],
)
def test_direct_invocation_accepts(payload: dict[str, Any]) -> None:
    parsed = DirectInvocation.model_validate(payload)

    assert parsed.customer_id == CUSTOMER_ID
    assert parsed.subscription_ids == payload.get("subscription_ids", [])


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="no-customer"),
        pytest.param({"customer_id": "cus_123"}, id="bad-customer"),
        pytest.param({"customer_id": 123}, id="customer-not-string"),
        pytest.param({"customer_id": CUSTOMER_ID, "customer_email": "jane@example.com"}, id="unknown-field"),
        pytest.param({"customer_id": CUSTOMER_ID, "subscription_ids": sub_ids(26)}, id="26-ids"),
        pytest.param({"customer_id": CUSTOMER_ID, "subscription_ids": [SUBSCRIPTION_ID] * 2}, id="duplicates"),
        pytest.param({"customer_id": CUSTOMER_ID, "correlation_id": ""}, id="empty-correlation-id"),
        pytest.param({"customer_id": CUSTOMER_ID, "correlation_id": "a b"}, id="correlation-id-with-space"),
        pytest.param({"customer_id": CUSTOMER_ID, "correlation_id": "x" * 129}, id="correlation-id-too-long"),
        pytest.param({"customer_id": CUSTOMER_ID, "correlation_id": 4711}, id="correlation-id-number"),
    ],
)
def test_direct_invocation_refuses(payload: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        DirectInvocation.model_validate(payload)


HTTP_EVENT_FILES = sorted(
    str(path.relative_to(EVENTS))
    for folder in ("http_api", "function_url")
    for path in (EVENTS / folder).glob("*.json")
)
REST_EVENT_FILES = sorted(str(path.relative_to(EVENTS)) for path in (EVENTS / "rest_api").glob("*.json"))


@pytest.mark.parametrize("name", HTTP_EVENT_FILES)
def test_every_http_api_and_function_url_sample_parses(name: str) -> None:
    event = HttpApiEvent.model_validate(load_event(name))

    assert event.requestContext.requestId


@pytest.mark.parametrize("name", REST_EVENT_FILES)
def test_every_rest_api_sample_parses(name: str) -> None:
    event = RestApiEvent.model_validate(load_event(name))

    assert event.requestContext.requestId


def test_rest_event_without_headers_or_source_ip_parses() -> None:
    # Given a REST event as the console's test button sends it: null headers, no sourceIp
    event = load_event("rest_api/post_portal_sessions_iam.json")
    event["headers"] = None
    event["multiValueHeaders"] = None
    del event["requestContext"]["identity"]["sourceIp"]

    # When / Then
    assert RestApiEvent.model_validate(event).headers is None
