"""Our real Paddle client, and our real handler end to end, against Prism on Paddle's document (`prism mock --errors`;
the `prism` fixture fails a test whose request Prism flagged): they send what it documents and take what it answers.
The last test proves that Prism flags what breaks the document."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import urllib3

from paddle_portal.app import lambda_handler
from paddle_portal.deadline import Deadline
from paddle_portal.paddle.client import PaddleClient, new_pool
from tests.contract.documents import LIST_EXAMPLE, SESSION_EXAMPLE
from tests.contract.prism import PrismTap
from tests.contract.trim_openapi import LIST_PATH
from tests.events import CLAIM, http_event, with_query
from tests.support import API_KEY, CUSTOMER_ID, LambdaContext

pytestmark = pytest.mark.slow  # a Node process and real sockets
[LISTED] = [customer for customer in LIST_EXAMPLE["data"] if customer["email"] == "jo@example.com"]
[LINKS] = SESSION_EXAMPLE["data"]["urls"]["subscriptions"]  # the example's one subscription and its deep links
SESSIONS, KEY = f"/customers/{CUSTOMER_ID}/portal-sessions", f"Bearer {API_KEY}"


def client(prism: PrismTap) -> PaddleClient:
    return PaddleClient(new_pool(), base_url=prism.url)


def sent_as_documented(prism: PrismTap) -> list[Any]:
    """Each request conformed, with the bearer scheme carrying our key and the pinned API version. Their bodies."""
    for exchange in prism.exchanges:
        assert (exchange.status, exchange.violations) == (200 if exchange.method == "GET" else 201, [])
        assert (exchange.headers["authorization"], exchange.headers["paddle-version"]) == (f"Bearer {API_KEY}", "1")
    return [exchange.json() for exchange in prism.exchanges]


@pytest.mark.parametrize("count", [0, 1, 25])
def test_our_client_creates_sessions_as_paddles_document_says(prism: PrismTap, count: int) -> None:
    ids = [f"sub_a{n:025d}" for n in range(count)]

    result = client(prism).create_portal_session(API_KEY, CUSTOMER_ID, ids, Deadline.within(20))

    assert sent_as_documented(prism) == [{"subscription_ids": ids} if ids else {}]
    assert (prism.exchanges[0].path, prism.exchanges[0].headers["content-type"]) == (SESSIONS, "application/json")
    assert result.data == SESSION_EXAMPLE["data"]  # Prism's answer is the document's example, and our client took it


@pytest.mark.parametrize("email", [LISTED["email"], "a" * 64 + "@" + "b" * 31 + ".com"], ids=["listed", "100-chars"])
def test_our_client_looks_customers_up_as_paddles_document_says(prism: PrismTap, email: str) -> None:
    matches = client(prism).find_customers_by_email(API_KEY, email, Deadline.within(20))

    assert sent_as_documented(prism) == [None]  # no body, and no Content-Type claiming one
    [sent] = prism.exchanges
    assert (sent.method, urlsplit(sent.path).path, sent.headers.get("content-type")) == ("GET", LIST_PATH, None)
    assert dict(parse_qsl(urlsplit(sent.path).query)) == {"email": email, "status": "active"}  # one address
    # Of the example's four customers, only the one with that email counts
    assert (matches.customer_ids, matches.request_id) == (
        (LISTED["id"],) if email == LISTED["email"] else (), LIST_EXAMPLE["meta"]["request_id"]
    )  # fmt: skip


@pytest.fixture
def handler(aws: Any, prism: PrismTap, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real Lambda handler, with moto's secret holding the key, and Paddle at Prism."""
    monkeypatch.setenv("PADDLE_API_BASE_URL", prism.url)
    monkeypatch.setenv("PADDLE_REQUEST_BUDGET_SECONDS", "20")
    return lambda event: lambda_handler(event, LambdaContext(remaining_ms=30_000))


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_the_handler_answers_with_paddles_documented_session(handler: Any, prism: PrismTap, accept: str) -> None:
    action = "update_subscription_payment_method"
    query = f"action={action}&subscription_id={LINKS['id']}"

    response = handler(with_query(http_event("http_api/get_portal_iam.json", None, accept=accept), query))

    assert sent_as_documented(prism) == [{"subscription_ids": [LINKS["id"]]}]
    if accept == "text/html":  # the browser goes to the example's deep link
        assert (response["statusCode"], response["headers"]["Location"]) == (302, LINKS[action])
    else:  # Paddle documents its request id in the body's `meta` (the mock sends no header): the caller gets it
        assert (response["statusCode"], json.loads(response["body"])) == (200, SESSION_EXAMPLE)


@pytest.mark.parametrize(
    ("email", "statuses", "status", "code"),
    [
        # The mock's session is its example's, which belongs to another customer than the one listed: the function
        # rightly refuses to hand out another customer's portal (the two examples do not describe one account).
        pytest.param(LISTED["email"], [200, 201], 502, "bad_gateway", id="listed"),
        pytest.param("nobody.here@example.org", [200], 404, "not_found", id="nobody"),  # never one of the four
    ],
)
def test_the_verified_email_lookup_then_the_session_conform(
    handler: Any, prism: PrismTap, monkeypatch: pytest.MonkeyPatch, email: str, statuses: list[int], status: int,
    code: str,
) -> None:  # fmt: skip
    monkeypatch.setenv("CUSTOMER_LOOKUP", "verified_email")
    event = with_query(http_event("http_api/get_portal_jwt.json"), "")
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    del claims[CLAIM]
    claims.update(email=email, email_verified="true")

    response = handler(event)

    assert (response["statusCode"], json.loads(response["body"])["error"]["code"]) == (status, code)
    assert sent_as_documented(prism) == [None, {}][: len(statuses)]
    assert dict(parse_qsl(urlsplit(prism.exchanges[0].path).query)) == {"email": email, "status": "active"}
    assert [e.path for e in prism.exchanges[1:]] == [f"/customers/{LISTED['id']}/portal-sessions"][: len(statuses) - 1]


@pytest.mark.parametrize(
    ("method", "target", "body", "authorization", "status", "violation"),
    [
        ("POST", SESSIONS, {"subscription_ids": [], "customer_id": "x"}, KEY, 422, "additionalProperties"),
        ("POST", SESSIONS, {"subscription_ids": [f"sub_c{n:025d}" for n in range(26)]}, KEY, 422, "maxItems"),
        ("POST", SESSIONS, {"subscription_ids": ["sub_c" + "1" * 25] * 2}, KEY, 422, "uniqueItems"),
        ("POST", SESSIONS, {"subscription_ids": ["sub_123"]}, KEY, 422, "pattern"),
        ("POST", SESSIONS, {}, "Basic dXNlcjpwYXNz", 401, 401),
        ("GET", "/customers?email=jo%40example.com&status=closed", None, KEY, 422, "enum"),
        ("GET", f"/customers?email={'a' * 95}%40b.com&status=active", None, KEY, 422, "maxLength"),
        ("GET", "/customers?email=jo%40example.com&status=active", None, None, 401, 401),
    ],
    ids=["unknown-field", "26-ids", "duplicates", "malformed-id", "not-bearer", "unknown-status", "101-char-email",
         "no-authorization"],
)  # fmt: skip
def test_prism_flags_what_breaks_paddles_document(
    prism: PrismTap, method: str, target: str, body: Any, authorization: str | None, status: int, violation: Any
) -> None:
    headers = {"Paddle-Version": "1", "Content-Type": "application/json"} | (
        {"Authorization": authorization} if authorization else {}
    )

    with prism.expect_violations():
        answer = urllib3.request(method, prism.url + target, json=body, headers=headers, retries=False)

    [flagged] = prism.violating()  # what the `prism` fixture fails a test on
    assert (answer.status, [v["code"] for v in flagged.violations]) == (status, [violation]), flagged.describe()
