"""Our requests to Paddle, checked by Prism against Paddle's own OpenAPI document.

Prism runs with `--errors` on the trimmed document: a request that breaks the document (body, security scheme, ...)
is refused instead of answered with a 201. The `prism` fixture records every exchange through a tap and fails the
test if any was flagged. Both our real Paddle client and our real handler are driven against it; the last tests
prove that Prism does flag bad requests (so a passing test means something).

By default Prism mocks Paddle (answers are the document's example). With `PADDLE_CONTRACT_UPSTREAM` and a sandbox
key the same tests go through Prism's proxy mode to the real sandbox, where Prism also checks Paddle's real answers;
the few that depend on the mock's fixed example are skipped there.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import urllib3

from paddle_portal.deadline import Deadline
from paddle_portal.paddle.client import PaddleClient, new_pool
from paddle_portal.paddle.errors import PaddleAPIError
from tests.contract.documents import paddle_document, paddle_validator, problems
from tests.contract.prism import PaddleTarget, PrismTap
from tests.contract.trim_openapi import LIST_PATH, PATH
from tests.events import claims_with, http_event, route_event, set_identity, with_query
from tests.support import CUSTOMER_ID, SECRET_ID, LambdaContext, SecretsManagerCalls

pytestmark = pytest.mark.slow  # a Node process and real sockets

# Prism's mock answers with the document's example, whatever the request asked for: this is that example.
EXAMPLE = paddle_document()["paths"][PATH]["post"]["responses"]["201"]["content"]["application/json"]["examples"][
    "Standard - 201 Created"
]["value"]
SESSION = paddle_validator("/components/schemas/customer-portal-session")


def made_up_ids(count: int) -> list[str]:
    return [f"sub_c{n:025d}" for n in range(1, count + 1)]


def mock_only(target: PaddleTarget) -> None:
    if target.live:
        pytest.skip("depends on the answer of Prism's mock (the document's example)")


def check_session(target: PaddleTarget, data: dict[str, Any], ids: list[str]) -> None:
    """A session as Paddle documents it; from the mock, exactly the example; from the sandbox, for what we asked."""
    assert problems(SESSION, data) == []
    if target.live:
        assert data["customer_id"] == target.customer_id
        assert [sub["id"] for sub in data["urls"].get("subscriptions", [])] == ids
    else:
        assert data == EXAMPLE["data"]


def clean(prism: PrismTap) -> list[tuple[int, list[Any]]]:
    return [(exchange.status, exchange.violations) for exchange in prism.exchanges]


# --- our Paddle client, called directly


@pytest.mark.parametrize(
    ("count", "as_list"),
    [
        pytest.param(0, False, id="no-ids"),
        pytest.param(0, True, id="empty-list"),
        pytest.param(1, True, id="one-id"),
        pytest.param(25, True, id="25-ids"),
    ],
)
def test_client_requests_conform_to_paddles_document(
    prism: PrismTap, paddle_target: PaddleTarget, count: int, as_list: bool
) -> None:
    # Given our real client pointed at Prism (through the recording tap)
    ids = paddle_target.ids(count)
    client = PaddleClient(new_pool(), base_url=prism.url)

    # When it creates a session
    result = client.create_portal_session(
        paddle_target.api_key, paddle_target.customer_id, ids if as_list else (), Deadline.within(20)
    )

    # Then Prism accepted the request (201, no violation) and the client read Paddle's documented answer
    [exchange] = prism.exchanges
    assert (exchange.status, exchange.violations) == (201, [])
    assert exchange.method == "POST"
    assert exchange.path == f"/customers/{paddle_target.customer_id}/portal-sessions"
    assert exchange.json() == ({"subscription_ids": ids} if ids else {})
    # ...for the right reasons: the bearer scheme Paddle documents, carrying our key; the pinned API version
    assert exchange.headers["authorization"] == f"Bearer {paddle_target.api_key}"
    assert exchange.headers["paddle-version"] == "1"
    assert exchange.headers["content-type"] == "application/json"
    check_session(paddle_target, result.data, ids)


# --- our real handler, end to end (event -> auth -> validation -> secret -> client -> Prism -> response)


@pytest.fixture
def handler(
    aws: SecretsManagerCalls, prism: PrismTap, paddle_target: PaddleTarget, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """The real Lambda handler with moto's secret holding the target's key and PADDLE_API_BASE_URL at Prism."""
    from paddle_portal.app import lambda_handler

    aws.client.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps({"api_key": paddle_target.api_key}))
    monkeypatch.setenv("PADDLE_API_BASE_URL", prism.url)
    monkeypatch.setenv("PADDLE_REQUEST_BUDGET_SECONDS", "20")

    def call(event: Any) -> Any:
        retargeted = json.loads(json.dumps(event).replace(CUSTOMER_ID, paddle_target.customer_id))
        return lambda_handler(retargeted, LambdaContext(remaining_ms=30_000))

    return call


def body_for(ids: list[str] | None) -> str | None:
    return None if ids is None else json.dumps({"subscription_ids": ids})


@pytest.mark.parametrize(
    ("body", "count"),
    [
        pytest.param(None, 0, id="no-body"),
        pytest.param("", 0, id="empty-body"),
        pytest.param("{}", 0, id="empty-object"),
        pytest.param('{"subscription_ids": []}', 0, id="empty-list"),
        pytest.param("ids", 1, id="one-id"),
        pytest.param("ids", 25, id="25-ids"),
    ],
)
@pytest.mark.parametrize("base64_body", [False, True], ids=["text", "base64"])
def test_handler_requests_conform_to_paddles_document(
    handler: Any, prism: PrismTap, paddle_target: PaddleTarget, body: str | None, count: int, base64_body: bool
) -> None:
    ids = paddle_target.ids(count)
    body = body_for(ids) if body == "ids" else body

    response = handler(http_event("http_api/post_portal_sessions_iam.json", body, base64_body=base64_body))

    assert response["statusCode"] == 201, response["body"]
    check_session(paddle_target, json.loads(response["body"])["data"], ids)
    assert clean(prism) == [(201, [])]
    assert prism.exchanges[0].json() == ({"subscription_ids": ids} if ids else {})
    assert prism.exchanges[0].headers["authorization"] == f"Bearer {paddle_target.api_key}"


CALLER_PATHS = [
    # (id, event file, body (None / "ids" for one subscription), query or None, accept, expected status)
    ("jwt-post", "http_api/post_portal_sessions_jwt.json", "ids", None, "application/json", 201),
    ("iam-get-overview", "http_api/get_portal_iam.json", None, "", "text/html", 302),
    ("iam-get-json", "http_api/get_portal_iam.json", None, "", "application/json", 200),
    ("jwt-get-deep-link", "http_api/get_portal_jwt.json", None, "action=cancel_subscription&subscription_id={sub}",
     "text/html", 302),
    ("rest-api-post", "rest_api/post_portal_sessions_iam.json", "ids", None, None, 201),
    ("function-url-post", "function_url/post_portal_sessions_iam.json", "ids", None, None, 201),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "body", "query", "accept", "status"),
    [pytest.param(*case[1:], id=case[0]) for case in CALLER_PATHS],
)
def test_every_caller_path_makes_a_conforming_request(
    handler: Any,
    prism: PrismTap,
    paddle_target: PaddleTarget,
    name: str,
    body: str | None,
    query: str | None,
    accept: str | None,
    status: int,
) -> None:
    needs_id = body == "ids" or "{sub}" in (query or "")
    [sub] = paddle_target.ids(1) if needs_id else [None]
    event = http_event(
        name,
        body_for([sub]) if body == "ids" else None,
        query=None if query is None else query.format(sub=sub),
        accept=accept,
    )

    response = handler(event)

    assert response["statusCode"] == status, response.get("body")
    assert clean(prism) == [(201, [])]
    assert prism.exchanges[0].json() == ({"subscription_ids": [sub]} if sub else {})
    assert prism.exchanges[0].headers["authorization"] == f"Bearer {paddle_target.api_key}"


def test_direct_invocation_makes_a_conforming_request(
    handler: Any, prism: PrismTap, paddle_target: PaddleTarget
) -> None:
    ids = paddle_target.ids(1)

    answer = handler({"customer_id": CUSTOMER_ID, "subscription_ids": ids})

    check_session(paddle_target, answer["data"], ids)
    assert clean(prism) == [(201, [])]


def test_redirect_goes_to_the_deep_link_from_paddles_example(
    handler: Any, prism: PrismTap, paddle_target: PaddleTarget
) -> None:
    mock_only(paddle_target)
    [links] = EXAMPLE["data"]["urls"]["subscriptions"]
    query = f"action=update_subscription_payment_method&subscription_id={links['id']}"

    response = handler(http_event("http_api/get_portal_iam.json", None, query=query, accept="text/html"))

    assert response["statusCode"] == 302
    assert response["headers"]["Location"] == links["update_subscription_payment_method"]
    assert prism.exchanges[0].json() == {"subscription_ids": [links["id"]]}


def test_json_answer_carries_paddles_request_id(handler: Any, prism: PrismTap, paddle_target: PaddleTarget) -> None:
    """Paddle documents the request id in the body's `meta` (Prism's mock sends no `Request-Id` header)."""
    response = handler(http_event("http_api/post_portal_sessions_iam.json", "{}"))

    request_id = json.loads(response["body"])["meta"]["request_id"]
    if paddle_target.live:
        assert isinstance(request_id, str)
        assert request_id
    else:
        assert request_id == EXAMPLE["meta"]["request_id"]


def test_requests_refused_by_our_validation_never_reach_paddle(handler: Any, prism: PrismTap) -> None:
    response = handler(http_event("http_api/post_portal_sessions_iam.json", body_for(made_up_ids(26))))

    assert response["statusCode"] == 400
    assert prism.exchanges == []


# --- the check has teeth: requests that break Paddle's document are flagged by Prism


def raw_post(url: str, customer_id: str, body: bytes | None, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
    return urllib3.PoolManager(retries=False).request(
        "POST", f"{url}/customers/{customer_id}/portal-sessions", body=body, headers=headers
    )


def good_headers(target: PaddleTarget) -> dict[str, str]:
    return {"Authorization": f"Bearer {target.api_key}", "Paddle-Version": "1", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "headers", "status", "violation"),
    [
        pytest.param({"subscription_ids": made_up_ids(26)}, {}, 422, "maxItems", id="26-ids"),
        pytest.param({"subscription_ids": made_up_ids(1) * 2}, {}, 422, "uniqueItems", id="duplicate-ids"),
        pytest.param({"subscription_ids": ["sub_123"]}, {}, 422, "pattern", id="malformed-id"),
        pytest.param({"subscription_ids": [], "customer_id": CUSTOMER_ID}, {}, 422, "additionalProperties",
                     id="unknown-field"),
        pytest.param({"subscription_ids": made_up_ids(1)[0]}, {}, 422, "type", id="ids-not-a-list"),
        pytest.param({}, {"Authorization": None}, 401, 401, id="no-authorization"),
        pytest.param({}, {"Authorization": "Basic dXNlcjpwYXNz"}, 401, 401, id="not-bearer"),
    ],
)  # fmt: skip
def test_prism_flags_requests_that_break_paddles_document(
    prism: PrismTap, paddle_target: PaddleTarget, body: Any, headers: dict[str, Any], status: int, violation: Any
) -> None:
    sent_headers = {k: v for k, v in {**good_headers(paddle_target), **headers}.items() if v is not None}

    with prism.expect_violations():
        answer = raw_post(prism.url, paddle_target.customer_id, json.dumps(body).encode(), sent_headers)

    assert answer.status == status
    [exchange] = prism.exchanges
    assert exchange.status == status
    assert [v["code"] for v in exchange.violations] == [violation], exchange.describe()


def test_prism_accepts_a_request_without_a_body(prism: PrismTap, paddle_target: PaddleTarget) -> None:
    """Paddle's document makes the body optional: the baseline for the checks above."""
    headers = {"Authorization": f"Bearer {paddle_target.api_key}", "Paddle-Version": "1"}

    answer = raw_post(prism.url, paddle_target.customer_id, None, headers)

    assert answer.status == 201
    assert clean(prism) == [(201, [])]


def test_our_client_sending_26_ids_would_be_flagged(prism: PrismTap, paddle_target: PaddleTarget) -> None:
    """Our client does not validate (the service does, before it): bypassing that, Prism catches the breach."""
    client = PaddleClient(new_pool(), base_url=prism.url)

    with prism.expect_violations(), pytest.raises(PaddleAPIError) as raised:
        client.create_portal_session(
            paddle_target.api_key, paddle_target.customer_id, made_up_ids(26), Deadline.within(20)
        )

    assert raised.value.status == 422
    assert [[v["code"] for v in e.violations] for e in prism.exchanges] == [["maxItems"]]


def test_the_fixture_fails_a_test_whose_request_prism_flagged(prism_tap: PrismTap, paddle_target: PaddleTarget) -> None:
    """The `prism` fixture's final check is what turns a flagged request into a failed test: prove it fires."""
    prism_tap.reset()
    raw_post(prism_tap.url, paddle_target.customer_id, b'{"unknown": true}', good_headers(paddle_target))

    flagged = prism_tap.violating()

    assert [exchange.status for exchange in flagged] == [422]
    prism_tap.reset()


# --- the verified-email customer lookup (CUSTOMER_LOOKUP=verified_email): GET /customers?email=…&status=active

# Prism's mock answers list-customers with the document's example (four active customers, whatever was asked for):
# a token carrying one of their emails continues to the session call, any other email finds nobody.
LIST_EXAMPLE = paddle_document()["paths"][LIST_PATH]["get"]["responses"]["200"]["content"]["application/json"][
    "examples"
]["Standard - 200 OK"]["value"]
[LISTED] = [customer for customer in LIST_EXAMPLE["data"] if customer["email"] == "jo@example.com"]


def lookups(prism: PrismTap) -> list[dict[str, str]]:
    return [dict(parse_qsl(urlsplit(e.path).query)) for e in prism.exchanges if e.method == "GET"]


def email_claims(email: str, verified: Any = "true") -> dict[str, Any]:
    """ID-token claims with `email`/`email_verified` and no customer claim: the caller is known by email only."""
    claims = claims_with(...)
    claims["email"] = email
    claims["email_verified"] = verified
    return claims


def jwt_event(route: str, claims: dict[str, Any], fmt: str = "http_api", accept: str | None = None) -> Any:
    event = set_identity(route_event(fmt, route), "jwt", claims)
    if route == "jwt_get":
        event = with_query(event, "")  # the overview
    if accept is not None:
        event["headers"] = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "accept"}
        event["headers"]["accept"] = accept
        event["multiValueHeaders"] = None
    return event


@pytest.fixture
def lookup_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMER_LOOKUP", "verified_email")


def test_client_lookup_request_conforms_to_paddles_document(prism: PrismTap, paddle_target: PaddleTarget) -> None:
    # Given our real client pointed at Prism
    client = PaddleClient(new_pool(), base_url=prism.url)

    # When it looks a customer up by email
    matches = client.find_customers_by_email(paddle_target.api_key, LISTED["email"], Deadline.within(20))

    # Then Prism accepted list-customers as sent: one address in `email`, `status=active`, our key, version 1
    [exchange] = prism.exchanges
    assert (exchange.status, exchange.violations) == (200, [])
    assert exchange.method == "GET"
    assert urlsplit(exchange.path).path == LIST_PATH
    assert lookups(prism) == [{"email": LISTED["email"], "status": "active"}]
    assert exchange.headers["authorization"] == f"Bearer {paddle_target.api_key}"
    assert exchange.headers["paddle-version"] == "1"
    assert exchange.body == b""
    assert "content-type" not in exchange.headers
    if not paddle_target.live:  # of the example's four customers, only the one with that email counts
        assert matches.customer_ids == (LISTED["id"],)
        assert matches.request_id == LIST_EXAMPLE["meta"]["request_id"]


def test_client_lookup_of_the_longest_address_we_send_conforms(prism: PrismTap, paddle_target: PaddleTarget) -> None:
    """100 characters, the longest address the function passes to Paddle (and the most Paddle's `email` takes)."""
    address = "a" * 64 + "@" + "b" * 31 + ".com"
    assert len(address) == 100
    client = PaddleClient(new_pool(), base_url=prism.url)

    matches = client.find_customers_by_email(paddle_target.api_key, address, Deadline.within(20))

    assert clean(prism) == [(200, [])]
    assert matches.customer_ids == ()


@pytest.mark.usefixtures("lookup_mode")
@pytest.mark.parametrize(
    ("fmt", "route", "accept", "verified"),
    [
        pytest.param("http_api", "jwt_get", "text/html", "true", id="http-api-get-overview"),
        pytest.param("http_api", "jwt_post", None, "true", id="http-api-post"),
        pytest.param("rest_api", "jwt_get", "application/json", True, id="rest-api-cognito-get"),
    ],
)
def test_handler_lookup_then_session_conform_to_paddles_document(
    handler: Any, prism: PrismTap, paddle_target: PaddleTarget, fmt: str, route: str, accept: str | None, verified: Any
) -> None:
    mock_only(paddle_target)  # the sandbox has no customer with the example's email

    # Given a token whose verified email is that of one customer in Paddle's list-customers example
    event = jwt_event(route, email_claims(LISTED["email"], verified), fmt, accept)

    # When the real handler serves it in verified-email mode
    response = handler(event)

    # Then both requests conform to Paddle's document: the lookup, then the session of the customer it found
    assert clean(prism) == [(200, []), (201, [])]
    assert lookups(prism) == [{"email": LISTED["email"], "status": "active"}]
    assert prism.exchanges[1].path == f"/customers/{LISTED['id']}/portal-sessions"
    for exchange in prism.exchanges:
        assert exchange.headers["authorization"] == f"Bearer {paddle_target.api_key}"
        assert exchange.headers["paddle-version"] == "1"
    # The mock's session is always its example's, which belongs to another customer than the one listed: the
    # function rightly refuses to hand out another customer's portal (the two examples do not describe one account).
    assert EXAMPLE["data"]["customer_id"] != LISTED["id"]
    assert response["statusCode"] == 502, response.get("body")
    assert json.loads(response["body"])["error"]["code"] == "bad_gateway"


@pytest.mark.usefixtures("lookup_mode")
def test_handler_lookup_finding_nobody_is_a_conforming_request_and_a_404(
    handler: Any, prism: PrismTap, paddle_target: PaddleTarget
) -> None:
    mock_only(paddle_target)
    # The mock lists its four example customers; none has this email, and the function must not pick one of them
    event = jwt_event("jwt_get", email_claims("nobody.here@example.org"), accept="application/json")

    response = handler(event)

    assert response["statusCode"] == 404, response["body"]
    assert json.loads(response["body"])["error"]["code"] == "not_found"
    assert clean(prism) == [(200, [])]  # the lookup only: no session is opened


@pytest.mark.usefixtures("lookup_mode")
@pytest.mark.parametrize(
    "claims",
    [
        pytest.param(email_claims("jo@example.com", "false"), id="unverified"),
        pytest.param(email_claims("jo@example.com,sam@example.com"), id="two-addresses"),
        pytest.param(email_claims("a" * 64 + "@" + "b" * 32 + ".com"), id="101-characters"),
    ],
)
def test_handler_refuses_emails_it_cannot_look_up_without_asking_paddle(
    handler: Any, prism: PrismTap, claims: dict[str, Any]
) -> None:
    response = handler(jwt_event("jwt_get", claims, accept="application/json"))

    assert response["statusCode"] == 403, response["body"]
    assert prism.exchanges == []


def raw_get(url: str, query: str, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
    return urllib3.PoolManager(retries=False).request("GET", f"{url}{LIST_PATH}?{query}", headers=headers)


@pytest.mark.parametrize(
    ("query", "headers", "status", "violation"),
    [
        pytest.param("email=jo%40example.com&status=closed", {}, 422, "enum", id="unknown-status"),
        pytest.param(f"email={'a' * 95}%40b.com&status=active", {}, 422, "maxLength", id="101-character-email"),
        pytest.param("email=jo%40example.com&status=active", {"Authorization": None}, 401, 401, id="no-authorization"),
    ],
)  # fmt: skip
def test_prism_flags_lookups_that_break_paddles_document(
    prism: PrismTap, paddle_target: PaddleTarget, query: str, headers: dict[str, Any], status: int, violation: Any
) -> None:
    base = {"Authorization": f"Bearer {paddle_target.api_key}", "Paddle-Version": "1"}
    sent_headers = {k: v for k, v in {**base, **headers}.items() if v is not None}

    with prism.expect_violations():
        answer = raw_get(prism.url, query, sent_headers)

    assert answer.status == status
    [exchange] = prism.exchanges
    assert [v["code"] for v in exchange.violations] == [violation], exchange.describe()
