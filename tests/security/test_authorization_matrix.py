"""Who can get a portal link for whom, through the real handler: every route x identity, and what an attacker can put
in an event to reach another customer. Every refusal asserts that neither Paddle nor Secrets Manager saw a call
(`assert_refused`), every allowed case that Paddle was asked about the caller's own customer only. The rules
themselves are tables in tests/unit/test_auth.py (who) and tests/unit/test_http_events.py (what each format carries)."""

from __future__ import annotations

import copy
import json
from base64 import b64encode, urlsafe_b64encode
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from paddle_portal.errors import InvalidRequestError
from tests.events import (
    ACCESS_TOKEN_CLAIMS,
    CLAIM,
    REST_COGNITO_CLAIMS,
    ROUTE_AUTH,
    ROUTES,
    claims_with,
    load_event,
    route_event,
    set_identity,
    with_query,
)
from tests.integration.checks import assert_error, assert_refused, body_of
from tests.security.cases import customers_called
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, SUBSCRIPTION_ID, portal_session

A, B = CUSTOMER_ID, OTHER_CUSTOMER_ID


def unsigned_jwt(claims: dict[str, Any]) -> str:
    """A JWT with `alg: none` and no signature: what a forger would send in a header the function never reads."""
    header, payload = (urlsafe_b64encode(json.dumps(part).encode()).decode() for part in ({"alg": "none"}, claims))
    return f"{header}.{payload}."


SPOOFED_HEADERS = {
    "authorization": "Bearer " + unsigned_jwt({CLAIM: B, "note": "FAKE unsigned token"}),
    "x-amzn-oidc-identity": "someone",
    "x-amzn-oidc-data": unsigned_jwt({"sub": "FAKE"}),
    "x-forwarded-user": "arn:aws:sts::123456789012:assumed-role/billing-backend-role/billing-backend",
    "x-amz-security-token": "FAKEFAKEFAKE",
}


def anonymous_with_identity_looking_headers(event: dict[str, Any]) -> dict[str, Any]:
    rest = "httpMethod" in event
    event["headers"] = {**event["headers"], **{(k.title() if rest else k): v for k, v in SPOOFED_HEADERS.items()}}
    return set_identity(event, "none")


def iam_without_a_principal(event: dict[str, Any]) -> dict[str, Any]:
    set_identity(event, "iam")
    if "httpMethod" in event:  # an API key identifies a usage plan, not a caller
        identity = event["requestContext"]["identity"]
        identity.update(userArn=None, caller=None, accessKey=None, apiKey="FAKE-plan-key")  # pragma: allowlist secret
    else:
        event["requestContext"]["authorizer"]["iam"].update(userArn="", callerId=None, accessKey=None)
    return event


IDENTITIES = {
    "no_identity": anonymous_with_identity_looking_headers,
    "iam": lambda event: set_identity(event, "iam"),
    "iam_without_principal": iam_without_a_principal,
    "jwt_with_claim": lambda event: set_identity(event, "jwt", claims_with(A)),
    "jwt_without_claim": lambda event: set_identity(event, "jwt", ACCESS_TOKEN_CLAIMS),
    "jwt_malformed_claim": lambda event: set_identity(event, "jwt", claims_with("cus_123")),
    "lambda_authorizer_context": lambda event: set_identity(event, "lambda_authorizer"),  # names A: not an identity
}
SERVED = {"iam": "iam", "jwt": "jwt_with_claim"}  # route auth -> the identity it serves; every other one is refused
UNAUTHENTICATED = {"no_identity", "iam_without_principal", "lambda_authorizer_context"}  # 401; any other refusal 403
# The rules run on HTTP API events. REST API and Function URL events differ only in how they carry the caller: each
# runs once per way it can (REST: IAM identity, Cognito claims, none; Function URL: IAM or none, so 401/403 on JWT).
OTHER_FORMATS = [
    ("rest_api", "iam_post", "iam"),
    ("rest_api", "iam_post", "iam_without_principal"),
    ("rest_api", "jwt_get", "jwt_with_claim"),
    ("rest_api", "jwt_post", "iam"),
    ("rest_api", "iam_get", "no_identity"),
    ("function_url", "iam_post", "iam"),
    ("function_url", "link_mint", "iam"),
    ("function_url", "iam_get", "no_identity"),
    ("function_url", "jwt_get", "no_identity"),
    ("function_url", "jwt_post", "iam"),
    ("function_url", "link_follow", "no_identity"),
]
MATRIX = [("http_api", route, identity) for route in ROUTES for identity in IDENTITIES] + OTHER_FORMATS


def assert_allowed(response: dict[str, Any], event: dict[str, Any], customer_id: str, paddle: Any) -> None:
    """Served (POST: 201; GET: 200 where the event asks for JSON, else 302), for `customer_id` only."""
    accept = {name.lower(): value for name, value in event["headers"].items()}.get("accept")
    status = 201 if event.get("httpMethod", event["requestContext"].get("http", {}).get("method")) == "POST" else 302
    assert response["statusCode"] == (200 if status == 302 and accept == "application/json" else status)
    assert response["headers"]["Cache-Control"] == "no-store"
    assert customers_called(paddle) == [customer_id]


@pytest.mark.parametrize(("fmt", "route", "identity"), MATRIX, ids=["-".join(case) for case in MATRIX])
def test_route_by_caller_by_identity(fmt, route, identity, invoke, paddle_any, aws):
    # Given an event of this format for this route, carrying this identity
    event = IDENTITIES[identity](route_event(fmt, route))

    # When the function handles it
    response = invoke(event)

    # Then it answers as the rules say, and calls Paddle (for the caller's customer) only when allowed. The signed-link
    # route ignores the caller's identity: the link (for A) is the credential.
    auth = ROUTE_AUTH[route]
    if auth != "link" and SERVED[auth] != identity:
        expected = (401, "authentication_missing") if identity in UNAUTHENTICATED else (403, "forbidden")
        assert_refused(response, *expected, paddle_any, aws)
        assert body_of(response)["meta"]["request_id"] == event["requestContext"]["requestId"]
    elif route.endswith("mint"):
        assert response["statusCode"] == 201, response["body"]
        assert dict(parse_qsl(urlsplit(body_of(response)["data"]["url"]).query))["c"] == A
        assert paddle_any.requests == []  # minting calls nobody but Secrets Manager (the signing keys)
        assert aws.api_key_reads == 0
    else:
        assert_allowed(response, event, A, paddle_any)
        assert aws.api_key_reads == 1


@pytest.mark.parametrize("fmt", ["http_api", "rest_api", "function_url"])
@pytest.mark.parametrize("route", ["iam_post", "iam_get"])
def test_iam_caller_acts_for_the_customer_in_the_path(fmt, route, invoke, paddle_any, aws):
    event = route_event(fmt, route, "iam", customer_id=B)

    assert_allowed(invoke(event), event, B, paddle_any)


# --- Naming another customer: IAM callers only through the path, JWT callers never ---


def jwt_event(fmt: str, route: str, claims: dict[str, Any] | None = None) -> dict[str, Any]:
    return route_event(fmt, route, "jwt", claims or claims_with(A, REST_COGNITO_CLAIMS if fmt == "rest_api" else None))


def naming(event: dict[str, Any], where: str, value: Any) -> dict[str, Any]:
    """`event` with `value` as its JSON body (`body`; `body64`: base64-encoded), query or path customer."""
    if where == "query":
        return with_query(event, urlencode(value))
    if where == "path":
        event["pathParameters"] = {"customer_id": value}
        return event
    text = json.dumps(value)
    event["body"], event["isBase64Encoded"] = (
        (b64encode(text.encode()).decode(), True) if where == "body64" else (text, False)
    )
    return event


BESIDE_SUBSCRIPTIONS = {"subscription_ids": [SUBSCRIPTION_ID], "customer_id": B}
NESTED_EVENT = {"requestContext": {"authorizer": {"jwt": {"claims": {CLAIM: B}}}}}
DIRECT_PAYLOAD_FOR_B = load_event("direct/create_session.json") | {"customer_id": B}
SECOND_CUSTOMER = {
    "iam-path-cyrillic-lookalike": ("iam", "iam_post", "path", A.replace("c", "\u0441", 1)),
    "iam-path-upper-case": ("iam", "iam_post", "path", A.upper()),
    "iam-path-encoded-traversal": ("iam", "iam_post", "path", f"{A}%2F..%2F{B}"),
    "iam-path-traversal": ("iam", "iam_post", "path", f"{A}/../{B}"),
    "iam-body-customer_id": ("iam", "iam_post", "body", {"customer_id": B}),
    "iam-body-direct-payload": ("iam", "iam_post", "body", load_event("direct/create_session.json")),
    "iam-query-customer_id": ("iam", "iam_get", "query", [("customer_id", B)]),
    "jwt-body-customer_id": ("jwt", "jwt_post", "body", {"customer_id": B}),
    "jwt-body-customer_id-beside-subscriptions": ("jwt", "jwt_post", "body", BESIDE_SUBSCRIPTIONS),
    "jwt-body-customer_id-base64": ("jwt", "jwt_post", "body64", {"customer_id": B}),
    "jwt-body-direct-payload": ("jwt", "jwt_post", "body", DIRECT_PAYLOAD_FOR_B),
    "jwt-body-nested-event": ("jwt", "jwt_post", "body", NESTED_EVENT),
    "jwt-post-query-customer_id": ("jwt", "jwt_post", "query", [("customer_id", B)]),
    "jwt-get-query-customer_id": ("jwt", "jwt_get", "query", [("action", "overview"), ("customer_id", B)]),
    "jwt-get-query-claim-name": ("jwt", "jwt_get", "query", [(CLAIM, B)]),
    "jwt-mint-body-customer_id": ("jwt", "jwt_mint", "body", {"customer_id": B}),
}


@pytest.mark.parametrize("fmt", ["http_api", "rest_api"])
@pytest.mark.parametrize(
    ("caller", "route", "where", "value"), list(SECOND_CUSTOMER.values()), ids=list(SECOND_CUSTOMER)
)
def test_a_second_customer_in_the_request_is_refused(fmt, caller, route, where, value, invoke, paddle_any, aws):
    event = jwt_event(fmt, route) if caller == "jwt" else route_event(fmt, route, "iam")

    response = invoke(naming(event, where, value))

    assert_refused(response, 400, "invalid_field", paddle_any, aws)
    assert B not in response["body"]


@pytest.mark.parametrize(("fmt", "route"), [("http_api", "jwt_post"), ("rest_api", "jwt_get")])
@pytest.mark.parametrize(
    "value",
    ["", [A], f"{A},{B}", f"{A} {B}", A.replace("c", "\u0441", 1), A + "\n", ...],
    ids=["empty", "list", "two-customers", "two-customers-space", "lookalike", "trailing-newline", "absent"],
)
def test_jwt_claim_that_is_not_exactly_one_customer_id_is_forbidden(fmt, route, value, invoke, paddle_any, aws):
    claims = claims_with(value, REST_COGNITO_CLAIMS if fmt == "rest_api" else None)

    assert_refused(invoke(jwt_event(fmt, route, claims)), 403, "forbidden", paddle_any, aws)


@pytest.mark.parametrize(
    ("claims", "allowed"),
    [
        (claims_with(B) | {"paddle_customer": A}, True),
        (claims_with(A), False),
        (claims_with(...) | {"Paddle_Customer": A, "paddle_customer ": A, "custom:paddle_customer": A}, False),
    ],
    ids=["configured-claim-wins", "default-claim-ignored", "claim-name-matches-exactly"],
)
def test_only_the_configured_claim_names_the_customer(claims, allowed, invoke, paddle_any, aws, monkeypatch):
    # Given a deployment that reads the customer from another claim
    monkeypatch.setenv("CUSTOMER_ID_CLAIM", "paddle_customer")
    event = jwt_event("http_api", "jwt_post", claims)

    response = invoke(event)

    if allowed:
        assert_allowed(response, event, A, paddle_any)
    else:
        assert_refused(response, 403, "forbidden", paddle_any, aws)
        assert "paddle_customer claim" in body_of(response)["error"]["detail"]  # the refusal names the claim


def elsewhere(event: dict[str, Any], where: str) -> dict[str, Any]:
    context, rest = event["requestContext"], "httpMethod" in event
    if where == "path-parameters":
        event["pathParameters"] = {"customer_id": B}
    elif where == "extra-event-fields":
        event["customer_id"] = context["customer_id"] = B
    elif where == "headers":
        event["headers"] = {**event["headers"], "x-paddle-customer-id": B, "x-amzn-oidc-data": B, CLAIM: B}
    elif where == "lambda-authorizer-context-beside-the-token":
        context["authorizer"] |= {"principalId": B, CLAIM + "_override": B} if rest else {"lambda": {CLAIM: B}}
    else:
        claims = context["authorizer"]["claims"] if rest else context["authorizer"]["jwt"]["claims"]
        claims.update({"paddle_customer_id": B, "custom:customer_id": B, "sub": B})
    return event


@pytest.mark.parametrize("fmt", ["http_api", "rest_api"])
@pytest.mark.parametrize(
    "where",
    ["path-parameters", "extra-event-fields", "headers", "lambda-authorizer-context-beside-the-token", "other-claims"],
)
def test_jwt_caller_gets_its_own_customer_whatever_else_the_event_names(fmt, where, invoke, paddle_any, aws):
    # Given a JWT caller bound to A whose event names B somewhere else
    event = elsewhere(jwt_event(fmt, "jwt_get"), where)

    response = invoke(event)

    # Then the session is the token's customer's, and Paddle never heard of the other one
    assert_allowed(response, event, A, paddle_any)
    assert B not in response["body"]


IAM_POST = "/customers/{customer_id}/portal-sessions"
ROUTED_ELSEWHERE = {  # how an API might (mis)route a token's request: route key, method, path, what it must get
    "catch-all-route-to-an-iam-path": ("ANY /{proxy+}", "POST", f"/customers/{B}/portal-sessions", 403),
    "default-route-to-an-iam-path": ("$default", "GET", f"/customers/{B}/portal", 403),
    "iam-route-given-a-jwt-authorizer": (f"POST {IAM_POST}", "POST", IAM_POST.replace("{customer_id}", B), 403),
    "default-route-to-the-iam-mint-path": ("$default", "POST", f"/customers/{B}/portal-links", 403),
    "default-route-to-a-jwt-path": ("$default", "POST", "/portal-sessions", 201),
    "catch-all-route-to-a-jwt-path": ("ANY /{proxy+}", "POST", "/portal-sessions", 201),
    "jwt-route-key-over-a-path-naming-a-customer": ("GET /portal", "GET", f"/customers/{B}/portal", 200),
}


@pytest.mark.parametrize(
    ("route_key", "method", "path", "status"), list(ROUTED_ELSEWHERE.values()), ids=list(ROUTED_ELSEWHERE)
)
def test_routing_cannot_take_a_token_to_another_customer(route_key, method, path, status, invoke, paddle_any, aws):
    # Given a token for A, on a request the API routed by the key, method and path of the row
    event = jwt_event("http_api", "jwt_post")
    event["routeKey"] = event["requestContext"]["routeKey"] = route_key
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["pathParameters"] = {"customer_id": B, "proxy": path.lstrip("/")}

    response = invoke(event)

    # Then an IAM route refuses the token, and a JWT route serves A, whatever the path says
    if status == 403:
        assert_refused(response, 403, "forbidden", paddle_any, aws)
    else:
        assert response["statusCode"] == status, response["body"]
        assert customers_called(paddle_any) == [A]


@pytest.mark.parametrize("lookup", ["claim", "verified_email"])
@pytest.mark.parametrize("route", ["jwt_get", "jwt_mint"])
def test_access_tokens_are_refused_naming_the_id_token(route, lookup, invoke, paddle_any, aws, monkeypatch):
    # Given an access token that passed the JWT authorizer (it lists the app client), even one carrying the customer
    # claim and a verified email (Cognito's pre-token-generation trigger can add claims to access tokens)
    monkeypatch.setenv("CUSTOMER_LOOKUP", lookup)
    access = ACCESS_TOKEN_CLAIMS | {CLAIM: A, "email": "jane@example.com", "email_verified": "true"}

    response = invoke(jwt_event("http_api", route, access))

    # Then it is refused before anything outside is asked, and the detail says to send the ID token
    assert_refused(response, 403, "forbidden", paddle_any, aws)
    assert "ID token" in body_of(response)["error"]["detail"]


# --- Direct invocation: IAM-trusted (lambda:InvokeFunction), strict payload, nothing else accepted ---


def test_direct_invocation_acts_for_the_payload_customer(invoke, paddle_any, aws):
    result = invoke(load_event("direct/create_session.json") | {"customer_id": B})

    assert set(result) == {"data", "meta"}
    assert customers_called(paddle_any) == [B]


DIRECT_REFUSED = {
    "identity-fields": {"customer_id": A, "identity": {"userArn": "arn:aws:iam::123456789012:root"}},
    "claims-field": {"customer_id": A, "claims": {CLAIM: B}},
    "http-event-without-context": {"body": json.dumps({"customer_id": A}), "httpMethod": "POST", "headers": {}},
    "request-context-not-an-object": {"customer_id": A, "requestContext": json.dumps({"authorizer": {}})},
    "request-context-null": {"customer_id": A, "requestContext": None},
    "lookalike-customer": {"customer_id": A.replace("c", "\u0441", 1)},
    "customer-list": {"customer_id": [A, B]},
    "list-payload": [{"customer_id": A}],
    "json-text-payload": json.dumps({"customer_id": A}),
    "null-payload": None,
    "number-payload": 42,
}


@pytest.mark.parametrize("payload", list(DIRECT_REFUSED.values()), ids=list(DIRECT_REFUSED))
def test_direct_invocation_refuses_anything_but_the_strict_payload(payload, invoke, paddle_any, aws):
    with pytest.raises(InvalidRequestError):
        invoke(copy.deepcopy(payload))

    assert paddle_any.requests == []
    assert aws.get_secret_value == 0


@pytest.mark.parametrize("route", ["jwt_get", "iam_get"])
def test_session_for_another_customer_is_not_handed_on(route, invoke, paddle, aws):
    # Given Paddle (or whatever PADDLE_API_BASE_URL points at) answers with another customer's session
    event = route_event("http_api", route, "jwt" if route == "jwt_get" else "iam")
    paddle.answers(201, portal_session(B, (SUBSCRIPTION_ID,)), customer_id=A)

    response = invoke(event)

    # Then the caller gets a 502, not a link into the other customer's account
    assert_error(response, 502, "bad_gateway")
    assert customers_called(paddle) == [A]
