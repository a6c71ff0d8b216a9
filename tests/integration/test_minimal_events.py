"""Hand-written events that carry only what routing and identity need are served like full ones; what identity
depends on is still required."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import CUSTOMER_ID, PaddleStub

IAM = {"iam": {"userArn": "arn:aws:iam::123456789012:user/backend", "accountId": "123456789012"}}


def minimal_v2(authorizer: dict[str, Any] | None) -> dict[str, Any]:
    context: dict[str, Any] = {"requestId": "req-1", "http": {"method": "POST"}}
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {
        "routeKey": "POST /customers/{customer_id}/portal-sessions",
        "rawPath": f"/customers/{CUSTOMER_ID}/portal-sessions",
        "pathParameters": {"customer_id": CUSTOMER_ID},
        "requestContext": context,
    }


def minimal_rest(identity: dict[str, Any]) -> dict[str, Any]:
    return {
        "resource": "/customers/{customer_id}/portal",
        "path": f"/customers/{CUSTOMER_ID}/portal",
        "httpMethod": "GET",
        "pathParameters": {"customer_id": CUSTOMER_ID},
        "requestContext": {"requestId": "req-2", "identity": identity},
    }


def test_minimal_http_api_event_is_served(invoke: Any, paddle: PaddleStub) -> None:
    paddle.creates_session()

    response = invoke(minimal_v2(IAM))

    assert response["statusCode"] == 201, response["body"]
    assert json.loads(response["body"])["data"]["customer_id"] == CUSTOMER_ID


def test_minimal_rest_event_is_served(invoke: Any, paddle: PaddleStub) -> None:
    paddle.creates_session()

    response = invoke(minimal_rest({"userArn": "arn:aws:iam::123456789012:user/backend"}))

    assert response["statusCode"] == 302
    assert response["headers"]["Location"].startswith("https://customer-portal.paddle.com/")


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(minimal_v2(None), id="v2-no-authorizer"),
        pytest.param(minimal_v2({"iam": {}}), id="v2-iam-without-principal"),
        pytest.param(minimal_rest({}), id="rest-identity-without-principal"),
    ],
)
def test_minimal_event_without_identity_is_refused(invoke: Any, paddle: PaddleStub, aws: Any, event: Any) -> None:
    response = invoke(event)

    assert response["statusCode"] == 401
    assert paddle.requests == []
    assert aws.get_secret_value == 0


def test_event_without_a_method_is_invalid_not_a_crash(invoke: Any, paddle: PaddleStub) -> None:
    event = minimal_v2(IAM)
    del event["requestContext"]["http"]

    response = invoke(event)

    assert response["statusCode"] == 400
    assert paddle.requests == []


def test_query_from_parsed_parameters_when_the_raw_query_is_absent(invoke: Any, paddle: PaddleStub) -> None:
    # Given a hand-written GET event with only `queryStringParameters`
    subscription = "sub_01h04vsc0qhwtsbsxh3422wjs4"
    paddle.creates_session(subscription_ids=(subscription,))
    event = minimal_v2(IAM)
    event.update(
        routeKey="GET /customers/{customer_id}/portal",
        rawPath=f"/customers/{CUSTOMER_ID}/portal",
        queryStringParameters={"action": "cancel_subscription", "subscription_id": subscription},
    )
    event["requestContext"]["http"]["method"] = "GET"

    response = invoke(event)

    # Then the deep link asked for is the one redirected to
    assert response["statusCode"] == 302
    assert "action=cancel_subscription" in response["headers"]["Location"]


def test_event_without_a_request_id_answers_with_the_invocation_id(invoke: Any, paddle: PaddleStub, context) -> None:
    event = minimal_v2(None)
    del event["requestContext"]["requestId"]

    response = invoke(event)

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["meta"]["request_id"] == context.aws_request_id
