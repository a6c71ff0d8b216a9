"""GET /customers/{customer_id}/portal and GET /portal: a 302 to the link asked for, or JSON on request."""

from __future__ import annotations

from typing import Any

import pytest

from tests.events import BROWSER_ACCEPT, http_api, rest_api
from tests.integration.checks import assert_error, assert_redirect, assert_session, body_of
from tests.support import CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID, PaddleStub

IAM_GET = f"/customers/{CUSTOMER_ID}/portal"


@pytest.mark.parametrize("path", [IAM_GET, "/portal"], ids=["iam", "jwt"])
@pytest.mark.parametrize(
    ("query", "subscriptions", "link"),
    [
        pytest.param({}, (), ("general", "overview"), id="overview-by-default"),
        pytest.param({"action": "overview"}, (), ("general", "overview"), id="overview"),
        pytest.param(
            {"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID},
            (SUBSCRIPTION_ID,),
            (SUBSCRIPTION_ID, "cancel_subscription"),
            id="cancel",
        ),
        pytest.param(
            {"action": "update_subscription_payment_method", "subscription_id": OTHER_SUBSCRIPTION_ID},
            (OTHER_SUBSCRIPTION_ID,),
            (OTHER_SUBSCRIPTION_ID, "update_subscription_payment_method"),
            id="update-payment-method",
        ),
        pytest.param(
            {"subscription_id": SUBSCRIPTION_ID},
            (SUBSCRIPTION_ID,),
            ("general", "overview"),
            id="overview-for-one-subscription",
        ),
    ],
)
def test_redirects_to_the_link_asked_for(
    path: str,
    query: dict[str, str],
    subscriptions: tuple[str, ...],
    link: tuple[str, str],
    invoke: Any,
    paddle: PaddleStub,
    aws: Any,
) -> None:
    # Given
    sent = paddle.creates_session(CUSTOMER_ID, subscriptions)
    auth = "iam" if path == IAM_GET else "jwt"

    # When a browser navigates
    response = invoke(http_api("GET", path, auth=auth, query=query, accept=BROWSER_ACCEPT))

    # Then it is sent to that link, and Paddle was asked for the subscription's links
    owner, kind = link
    urls = sent["data"]["urls"]
    expected = (
        urls["general"][kind]
        if owner == "general"
        else next(sub[kind] for sub in urls["subscriptions"] if sub["id"] == owner)
    )
    assert_redirect(response, expected)
    assert response["headers"]["Referrer-Policy"] == "no-referrer"
    assert paddle.sent_json() == ({"subscription_ids": list(subscriptions)} if subscriptions else {})


@pytest.mark.parametrize(
    "accept",
    [
        pytest.param("application/json", id="json"),
        pytest.param("text/html;q=0.5, application/json", id="json-among-others"),
        pytest.param("APPLICATION/JSON; charset=utf-8", id="json-any-case"),
    ],
)
def test_json_when_the_caller_accepts_it(accept: str, invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    sent = paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))

    response = invoke(
        http_api(
            "GET", IAM_GET, query={"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID}, accept=accept
        )
    )

    assert_session(response, 200, sent)
    assert "Location" not in response["headers"]


@pytest.mark.parametrize(
    "accept",
    [
        pytest.param(BROWSER_ACCEPT, id="browser"),
        pytest.param("*/*", id="anything"),
        pytest.param("application/json;q=0", id="json-refused"),
    ],
)
def test_redirect_unless_json_is_asked_for(accept: str, invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    sent = paddle.creates_session(CUSTOMER_ID)

    response = invoke(http_api("GET", IAM_GET, accept=accept))

    assert_redirect(response, sent["data"]["urls"]["general"]["overview"])


def test_rest_api_redirect_to_a_deep_link(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    sent = paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))

    response = invoke(
        rest_api(
            "GET",
            IAM_GET,
            query={"action": ["update_subscription_payment_method"], "subscription_id": [SUBSCRIPTION_ID]},
            accept=BROWSER_ACCEPT,
        )
    )

    assert_redirect(response, sent["data"]["urls"]["subscriptions"][0]["update_subscription_payment_method"])


QUERY_ERRORS = [
    pytest.param(
        http_api("GET", IAM_GET, query={"action": "cancel_subscription"}),
        {"subscription_id"},
        id="cancel-without-subscription",
    ),
    pytest.param(
        http_api("GET", "/portal", auth="jwt", query={"action": "update_subscription_payment_method"}),
        {"subscription_id"},
        id="update-without-subscription",
    ),
    pytest.param(http_api("GET", IAM_GET, query={"action": "delete"}), {"action"}, id="bad-action"),
    pytest.param(http_api("GET", IAM_GET, query={"action": ""}), {"action"}, id="empty-action"),
    pytest.param(
        http_api("GET", IAM_GET, query={"subscription_id": "sub_123"}), {"subscription_id"}, id="bad-subscription-id"
    ),
    pytest.param(http_api("GET", IAM_GET, query="action=overview&action=overview"), {"action"}, id="duplicate-action"),
    pytest.param(
        http_api(
            "GET",
            IAM_GET,
            query=f"action=cancel_subscription&subscription_id={SUBSCRIPTION_ID}"
            f"&subscription_id={OTHER_SUBSCRIPTION_ID}",
        ),
        {"subscription_id"},
        id="duplicate-subscription-id",
    ),
    pytest.param(
        rest_api("GET", IAM_GET, query={"action": ["overview", "cancel_subscription"]}),
        {"action"},
        id="rest-duplicate-action",
    ),
    pytest.param(http_api("GET", IAM_GET, query={"token": "x"}), {"token"}, id="unknown-parameter"),
]


@pytest.mark.parametrize(("event", "fields"), QUERY_ERRORS)
def test_query_errors(event: dict[str, Any], fields: set[str], invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    response = invoke(event)

    error = assert_error(response, 400, "invalid_field", fields=True)
    assert {item["field"] for item in error["errors"]} == fields
    assert paddle.requests == []
    assert aws.get_secret_value == 0


def test_deep_link_missing_from_paddles_answer_is_a_bad_gateway(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    # Given Paddle answers without links for the subscription asked for
    paddle.creates_session(CUSTOMER_ID, ())

    # When
    response = invoke(
        http_api(
            "GET",
            IAM_GET,
            query={"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID},
            accept=BROWSER_ACCEPT,
        )
    )

    # Then no redirect to somewhere else
    assert_error(response, 502, "bad_gateway")


def test_json_answer_is_pure_json(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    paddle.creates_session(CUSTOMER_ID)

    response = invoke(http_api("GET", "/portal", auth="jwt"))

    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is False
    assert set(body_of(response)) == {"data", "meta"}
