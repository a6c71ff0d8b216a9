"""Events too malformed to route: a 400 with a request id, and no Paddle call or secret read.

Which caller may use which route (every route x API format x identity), and requests for no route of ours (404) or
with a path that is not a customer id (400), are tested in one place: tests/security/test_authorization_matrix.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.events import http_api
from tests.integration.checks import assert_error, body_of
from tests.support import PaddleStub

JWT_GET = "/portal"


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
