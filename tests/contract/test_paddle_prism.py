"""Our requests to Paddle, checked by Prism against Paddle's own OpenAPI document.

Prism runs in mock mode with `--errors` on the trimmed document: a request that breaks the document (body, security
scheme, ...) gets an error status and an `sl-violations` header instead of the 201. The `prism` fixture records every
exchange through a tap and fails the test if any was flagged. Both our real Paddle client and our real handler are
driven against it; the last tests prove that Prism does flag bad requests (so a passing test means something).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import urllib3

from paddle_portal.deadline import Deadline
from paddle_portal.paddle import PaddleClient, new_pool
from paddle_portal.paddle_errors import PaddleAPIError
from tests.conftest import load_event
from tests.contract.documents import paddle_document
from tests.contract.events import http_event
from tests.contract.prism import PrismTap
from tests.contract.trim_openapi import PATH
from tests.support import API_KEY, CUSTOMER_ID, SUBSCRIPTION_ID, LambdaContext, SecretsManagerCalls

pytestmark = pytest.mark.slow  # a Node process and real sockets

# Prism answers with the document's example, whatever the request asked for: this is that example.
EXAMPLE = paddle_document()["paths"][PATH]["post"]["responses"]["201"]["content"]["application/json"]["examples"][
    "Standard - 201 Created"
]["value"]
EXAMPLE_SUBSCRIPTION_ID = EXAMPLE["data"]["urls"]["subscriptions"][0]["id"]


def subscription_ids(count: int) -> list[str]:
    return [f"sub_a{n:025d}" for n in range(1, count + 1)]


def sent(prism: PrismTap) -> list[Any]:
    return [exchange.json() for exchange in prism.exchanges]


# --- our Paddle client, called directly


@pytest.mark.parametrize(
    ("ids", "expected_body"),
    [
        pytest.param((), {}, id="no-ids"),
        pytest.param([], {}, id="empty-list"),
        pytest.param([SUBSCRIPTION_ID], {"subscription_ids": [SUBSCRIPTION_ID]}, id="one-id"),
        pytest.param(subscription_ids(25), {"subscription_ids": subscription_ids(25)}, id="25-ids"),
    ],
)
def test_client_requests_conform_to_paddles_document(prism: PrismTap, ids: Any, expected_body: Any) -> None:
    # Given our real client pointed at Prism (through the recording tap)
    client = PaddleClient(new_pool(), base_url=prism.url)

    # When it creates a session
    result = client.create_portal_session(API_KEY, CUSTOMER_ID, ids, Deadline.within(10))

    # Then Prism accepted the request (201, no violation) and the client read Paddle's documented answer
    [exchange] = prism.exchanges
    assert (exchange.status, exchange.violations) == (201, [])
    assert exchange.method == "POST"
    assert exchange.path == f"/customers/{CUSTOMER_ID}/portal-sessions"
    assert exchange.json() == expected_body
    # ...for the right reasons: the bearer scheme Paddle documents, carrying our key; the pinned API version
    assert exchange.headers["authorization"] == f"Bearer {API_KEY}"
    assert exchange.headers["paddle-version"] == "1"
    assert exchange.headers["content-type"] == "application/json"
    assert result.data == EXAMPLE["data"]


# --- our real handler, end to end (event -> auth -> validation -> secret -> client -> Prism -> response)


@pytest.fixture
def handler(aws: SecretsManagerCalls, prism: PrismTap, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real Lambda handler with moto's secret and PADDLE_API_BASE_URL pointing at Prism."""
    from paddle_portal.app import lambda_handler

    monkeypatch.setenv("PADDLE_API_BASE_URL", prism.url)

    def call(event: Any) -> Any:
        return lambda_handler(event, LambdaContext())

    return call


@pytest.mark.parametrize(
    ("body", "expected_sent"),
    [
        pytest.param(None, {}, id="no-body"),
        pytest.param("", {}, id="empty-body"),
        pytest.param("{}", {}, id="empty-object"),
        pytest.param('{"subscription_ids": []}', {}, id="empty-list"),
        pytest.param(
            json.dumps({"subscription_ids": [SUBSCRIPTION_ID]}), {"subscription_ids": [SUBSCRIPTION_ID]}, id="one-id"
        ),
        pytest.param(
            json.dumps({"subscription_ids": subscription_ids(25)}),
            {"subscription_ids": subscription_ids(25)},
            id="25-ids",
        ),
    ],
)
@pytest.mark.parametrize("base64_body", [False, True], ids=["text", "base64"])
def test_handler_requests_conform_to_paddles_document(
    handler: Any, prism: PrismTap, body: str | None, expected_sent: Any, base64_body: bool
) -> None:
    response = handler(http_event("http_api/post_portal_sessions_iam.json", body, base64_body=base64_body))

    assert response["statusCode"] == 201, response["body"]
    assert json.loads(response["body"])["data"] == EXAMPLE["data"]
    assert [(e.status, e.violations) for e in prism.exchanges] == [(201, [])]
    assert sent(prism) == [expected_sent]
    assert prism.exchanges[0].headers["authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize(
    ("event", "status"),
    [
        pytest.param(
            http_event("http_api/post_portal_sessions_jwt.json", json.dumps({"subscription_ids": [SUBSCRIPTION_ID]})),
            201,
            id="jwt-post",
        ),
        pytest.param(
            http_event("http_api/get_portal_iam.json", None, query="", accept="text/html"), 302, id="iam-get-overview"
        ),
        pytest.param(
            http_event("http_api/get_portal_iam.json", None, query="", accept="application/json"),
            200,
            id="iam-get-json",
        ),
        pytest.param(
            http_event(
                "http_api/get_portal_jwt.json",
                None,
                accept="text/html",
                query=f"action=cancel_subscription&subscription_id={EXAMPLE_SUBSCRIPTION_ID}",
            ),
            302,
            id="jwt-get-deep-link",
        ),
        pytest.param(load_event("rest_api/post_portal_sessions_iam.json"), 201, id="rest-api-post"),
        pytest.param(load_event("function_url/post_portal_sessions_iam.json"), 201, id="function-url-post"),
        pytest.param({"customer_id": CUSTOMER_ID, "subscription_ids": [SUBSCRIPTION_ID]}, None, id="direct"),
    ],
)
def test_every_caller_path_makes_a_conforming_request(
    handler: Any, prism: PrismTap, event: Any, status: int | None
) -> None:
    response = handler(copy.deepcopy(event))

    if status is None:  # a direct invocation answers the {"data", "meta"} object itself
        assert response["data"] == EXAMPLE["data"]
    else:
        assert response["statusCode"] == status, response.get("body")
    assert [(e.status, e.violations) for e in prism.exchanges] == [(201, [])]
    assert prism.exchanges[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_redirect_goes_to_the_deep_link_from_paddles_example(handler: Any, prism: PrismTap) -> None:
    query = f"action=update_subscription_payment_method&subscription_id={EXAMPLE_SUBSCRIPTION_ID}"
    response = handler(http_event("http_api/get_portal_iam.json", None, query=query, accept="text/html"))

    assert response["statusCode"] == 302
    assert (
        response["headers"]["Location"]
        == (EXAMPLE["data"]["urls"]["subscriptions"][0]["update_subscription_payment_method"])
    )
    assert sent(prism) == [{"subscription_ids": [EXAMPLE_SUBSCRIPTION_ID]}]


def test_json_answer_carries_paddles_request_id_from_the_body(handler: Any, prism: PrismTap) -> None:
    """Paddle documents the request id in the body's `meta` (Prism sends no `Request-Id` header)."""
    response = handler(http_event("http_api/post_portal_sessions_iam.json", "{}"))

    assert json.loads(response["body"])["meta"]["request_id"] == EXAMPLE["meta"]["request_id"]


def test_requests_refused_by_our_validation_never_reach_paddle(handler: Any, prism: PrismTap) -> None:
    too_many = json.dumps({"subscription_ids": subscription_ids(26)})
    response = handler(http_event("http_api/post_portal_sessions_iam.json", too_many))

    assert response["statusCode"] == 400
    assert prism.exchanges == []


# --- the check has teeth: requests that break Paddle's document are flagged by Prism


def raw_post(url: str, body: bytes | None, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
    return urllib3.PoolManager(retries=False).request(
        "POST", f"{url}/customers/{CUSTOMER_ID}/portal-sessions", body=body, headers=headers
    )


GOOD_HEADERS = {"Authorization": f"Bearer {API_KEY}", "Paddle-Version": "1", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "headers", "status", "violation"),
    [
        pytest.param({"subscription_ids": subscription_ids(26)}, GOOD_HEADERS, 422, "maxItems", id="26-ids"),
        pytest.param(
            {"subscription_ids": [SUBSCRIPTION_ID, SUBSCRIPTION_ID]},
            GOOD_HEADERS,
            422,
            "uniqueItems",
            id="duplicate-ids",
        ),
        pytest.param({"subscription_ids": ["sub_123"]}, GOOD_HEADERS, 422, "pattern", id="malformed-id"),
        pytest.param(
            {"subscription_ids": [SUBSCRIPTION_ID], "customer_id": CUSTOMER_ID},
            GOOD_HEADERS,
            422,
            "additionalProperties",
            id="unknown-field",
        ),
        pytest.param({"subscription_ids": SUBSCRIPTION_ID}, GOOD_HEADERS, 422, "type", id="ids-not-a-list"),
        pytest.param({}, {"Content-Type": "application/json"}, 401, 401, id="no-authorization"),
        pytest.param({}, {**GOOD_HEADERS, "Authorization": "Basic dXNlcjpwYXNz"}, 401, 401, id="not-bearer"),
    ],
)
def test_prism_flags_requests_that_break_paddles_document(
    prism: PrismTap, body: Any, headers: dict[str, str], status: int, violation: Any
) -> None:
    with prism.expect_violations():
        answer = raw_post(prism.url, json.dumps(body).encode(), headers)

    assert answer.status == status
    [exchange] = prism.exchanges
    assert exchange.status == status
    assert [v["code"] for v in exchange.violations] == [violation], exchange.describe()


def test_prism_accepts_a_request_without_a_body(prism: PrismTap) -> None:
    """Paddle's document makes the body optional: the baseline for the checks above."""
    answer = raw_post(prism.url, None, {"Authorization": f"Bearer {API_KEY}", "Paddle-Version": "1"})

    assert answer.status == 201
    assert [(e.status, e.violations) for e in prism.exchanges] == [(201, [])]


def test_our_client_sending_26_ids_would_be_flagged(prism: PrismTap) -> None:
    """Our client does not validate (the service does, before it): bypassing that, Prism catches the breach."""
    client = PaddleClient(new_pool(), base_url=prism.url)

    with prism.expect_violations(), pytest.raises(PaddleAPIError) as raised:
        client.create_portal_session(API_KEY, CUSTOMER_ID, subscription_ids(26), Deadline.within(10))

    assert raised.value.status == 422
    assert [[v["code"] for v in e.violations] for e in prism.exchanges] == [["maxItems"]]


def test_the_fixture_fails_a_test_whose_request_prism_flagged(prism_tap: PrismTap) -> None:
    """The `prism` fixture's final check is what turns a flagged request into a failed test: prove it fires."""
    prism_tap.reset()
    raw_post(prism_tap.url, b'{"unknown": true}', GOOD_HEADERS)

    flagged = prism_tap.violating()

    assert [exchange.status for exchange in flagged] == [422]
    prism_tap.reset()
