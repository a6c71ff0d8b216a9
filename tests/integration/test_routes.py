"""Routing, whoever calls: a request for no route of ours is a 404, an IAM route's path that is not a customer id a
400, an event too malformed to route a 400 with a request id; none of them costs a Paddle call or a secret read.

Which caller may use which route (every route x API format x identity) is tested in one place,
tests/security/test_authorization_matrix.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.events import function_url, http_api, rest_api
from tests.integration.checks import assert_error, assert_refused, body_of
from tests.support import CUSTOMER_ID, PaddleStub

A = CUSTOMER_ID
IAM_POST, IAM_GET = f"/customers/{A}/portal-sessions", f"/customers/{A}/portal"
JWT_GET = "/portal"


REFUSED = [
    # No such route.
    pytest.param(
        http_api("DELETE", IAM_POST, auth="iam", route_key="$default"), 404, "not_found", id="http-api-unknown-method"
    ),
    pytest.param(function_url("GET", "/", auth="iam"), 404, "not_found", id="function-url-root"),
    pytest.param(function_url("POST", IAM_GET, auth="iam"), 404, "not_found", id="function-url-post-on-get-route"),
    pytest.param(rest_api("GET", "/admin", auth="iam"), 404, "not_found", id="rest-api-unknown-path"),
    # An IAM caller with a path that is not a customer id.
    pytest.param(
        http_api("GET", "/customers/cus_123/portal", auth="iam"), 400, "invalid_field", id="http-api-bad-path-customer"
    ),
    pytest.param(
        rest_api("POST", "/customers/ctm_123/portal-sessions", auth="iam"),
        400,
        "invalid_field",
        id="rest-api-bad-path-customer",
    ),
    pytest.param(
        function_url("GET", f"/customers/{A.upper()}/portal", auth="iam"),
        400,
        "invalid_field",
        id="function-url-bad-path-customer",
    ),
]


@pytest.mark.parametrize(("event", "status", "code"), REFUSED)
def test_refused_before_paddle_or_secrets_manager(
    event: dict[str, Any], status: int, code: str, invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    # Given Paddle would answer for anyone
    paddle.creates_session(A)

    # When
    response = invoke(event)

    # Then the request is refused, and nothing outside was asked
    assert_refused(response, status, code, paddle, aws)
    assert body_of(response)["meta"]["request_id"] == event["requestContext"]["requestId"]


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"requestContext": {}}, id="empty-request-context"),
        pytest.param({"requestContext": {"requestId": 7}, "httpMethod": "GET"}, id="rest-without-fields"),
        pytest.param({**http_api("GET", JWT_GET, auth="jwt"), "rawPath": None}, id="v2-raw-path-null"),
    ],
)
def test_malformed_api_events_are_400_with_a_request_id(
    event: dict[str, Any], invoke: Any, paddle: PaddleStub, aws: Any, context: Any
) -> None:
    response = invoke(event)

    assert_error(response, 400, "invalid_field")
    gateway_id = event["requestContext"].get("requestId")
    expected = gateway_id if isinstance(gateway_id, str) else context.aws_request_id
    assert body_of(response)["meta"]["request_id"] == expected
    assert paddle.requests == []
    assert aws.get_secret_value == 0
