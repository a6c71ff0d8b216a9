"""The session routes through the real handler, where the events/ files (test_events.py), the error table
(test_error_table.py) and the authorization matrix do not already show it. The rules of bodies, queries and events
are tables in tests/unit."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.events import BROWSER_ACCEPT, route_event
from tests.integration.checks import assert_error, assert_redirect, assert_session, body_of
from tests.support import CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID, link_of

UPDATE = "update_subscription_payment_method"


def test_a_browser_is_sent_to_the_page_it_asked_for(invoke, paddle):
    # (Which link each page is: tests/unit/test_paddle_session.py; the overview and cancel pages: test_events.py)
    sent = paddle.creates_session(CUSTOMER_ID, (OTHER_SUBSCRIPTION_ID,))
    query = urlencode({"action": UPDATE, "subscription_id": OTHER_SUBSCRIPTION_ID})

    response = invoke(route_event("http_api", "jwt_get", "jwt", query=query, accept=BROWSER_ACCEPT))

    assert_redirect(response, link_of(sent, UPDATE, OTHER_SUBSCRIPTION_ID))
    assert paddle.sent_json() == {"subscription_ids": [OTHER_SUBSCRIPTION_ID]}


def test_a_deep_link_missing_from_paddles_answer_is_502_not_another_page(invoke, paddle):
    paddle.creates_session(CUSTOMER_ID, ())
    query = f"action=cancel_subscription&subscription_id={SUBSCRIPTION_ID}"

    assert_error(invoke(route_event("http_api", "iam_get", query=query, accept=BROWSER_ACCEPT)), 502, "bad_gateway")


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", None])
def test_a_json_body_is_read_whatever_its_content_type(content_type, invoke, paddle):
    # Given a JSON body sent as `curl -d` sends it
    event = route_event("http_api", "iam_post", body={"subscription_ids": [SUBSCRIPTION_ID]})
    event["headers"].pop("content-type", None)
    event["headers"] |= {"content-type": content_type} if content_type else {}
    sent = paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))

    # When / Then
    assert_session(invoke(event), 201, sent)
    assert paddle.sent_json() == {"subscription_ids": [SUBSCRIPTION_ID]}


@pytest.mark.parametrize(
    "event",
    [
        {"requestContext": {"requestId": 7}, "httpMethod": "GET"},
        {**route_event("http_api", "jwt_get"), "rawPath": None},
    ],
    ids=["rest-without-fields", "v2-raw-path-null"],
)
def test_a_malformed_api_event_is_400_with_a_request_id(event, invoke, paddle, aws, context):
    # (the gateway's request id when the event carries one, else the invocation's)
    response = invoke(event)

    assert_error(response, 400, "invalid_field")
    gateway_id = event["requestContext"].get("requestId")
    assert body_of(response)["meta"]["request_id"] == (
        gateway_id if isinstance(gateway_id, str) else context.aws_request_id
    )
    assert paddle.requests == []
    assert aws.get_secret_value == 0
