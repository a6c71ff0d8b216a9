"""Who can mint a portal link for whom, as tables: every route x caller type x identity shape.

A portal link signs its holder into a customer's billing account, so a wrongly minted link is an account takeover.
Every refused case asserts that neither Paddle nor Secrets Manager saw a single call; every allowed JWT case asserts
that the customer Paddle was asked about (the path the stand-in received) is the token's, never a smuggled one.
docs/security.md cites these tests sentence by sentence. The plain matrix is here too, as hand-built events of every
API format (the end of this file), with the requests for no route of ours.
"""

from __future__ import annotations

import copy
import json
from base64 import b64encode
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.events import (
    ACCESS_TOKEN_CLAIMS,
    BROWSER_ACCEPT,
    CLAIM,
    FORMATS,
    MINT_ROUTES,
    REST_COGNITO_CLAIMS,
    ROUTE_AUTH,
    ROUTES,
    claims,
    claims_with,
    function_url,
    http_api,
    load_event,
    rest_api,
    route_event,
    set_identity,
    success_status,
)
from tests.integration.checks import assert_error, assert_refused, body_of
from tests.security.cases import customers_called
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, SUBSCRIPTION_ID, PaddleStub, portal_session

OWN_CLAIMS = claims_with(CUSTOMER_ID)

# (identity kind, claims) -> what each kind of route must answer. "allowed" = the route's success status.
IDENTITIES: dict[str, tuple[str, dict[str, Any] | None]] = {
    "no_identity": ("none", None),
    "iam": ("iam", None),
    "jwt_with_claim": ("jwt", OWN_CLAIMS),
    "jwt_without_claim": ("jwt", ACCESS_TOKEN_CLAIMS),
    "jwt_malformed_claim": ("jwt", claims_with("cus_123")),
    "lambda_authorizer_context": ("lambda_authorizer", None),
}
# Keyed by how the route authenticates (tests/security/cases.py ROUTE_AUTH); the signed-link route is in
# test_signed_link_security.py.
EXPECTED: dict[tuple[str, str], tuple[int, str] | str] = {
    ("iam", "no_identity"): (401, "authentication_missing"),
    ("iam", "iam"): "allowed",
    ("iam", "jwt_with_claim"): (403, "forbidden"),
    ("iam", "jwt_without_claim"): (403, "forbidden"),
    ("iam", "jwt_malformed_claim"): (403, "forbidden"),
    ("iam", "lambda_authorizer_context"): (401, "authentication_missing"),
    ("jwt", "no_identity"): (401, "authentication_missing"),
    ("jwt", "iam"): (403, "forbidden"),
    ("jwt", "jwt_with_claim"): "allowed",
    ("jwt", "jwt_without_claim"): (403, "forbidden"),
    ("jwt", "jwt_malformed_claim"): (403, "forbidden"),
    ("jwt", "lambda_authorizer_context"): (401, "authentication_missing"),
}


def assert_allowed(response: dict[str, Any], status: int, customer_id: str, paddle: Any) -> None:
    assert response["statusCode"] == status, response["body"]
    assert response["headers"]["Cache-Control"] == "no-store"
    assert customers_called(paddle) == [customer_id]


MATRIX = [
    pytest.param(fmt, route, identity, id=f"{fmt}-{route}-{identity}")
    for fmt in FORMATS
    for route in ROUTES
    for identity in IDENTITIES
]


@pytest.mark.parametrize(("fmt", "route", "identity"), MATRIX)
def test_route_by_caller_by_identity(
    fmt: str, route: str, identity: str, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    # Given an event of this format for this route, carrying this identity
    kind, claims = IDENTITIES[identity]
    event = set_identity(route_event(fmt, route), kind, claims)

    # When the function handles it
    response = invoke(event)

    # Then it answers as the table says, and calls Paddle (for the caller's customer) only when allowed.
    # The signed-link route ignores the caller's identity: the link (for CUSTOMER_ID) is the credential.
    auth = ROUTE_AUTH[route]
    expected = "allowed" if auth == "link" else EXPECTED[(auth, identity)]
    if expected == "allowed" and route in MINT_ROUTES:
        assert response["statusCode"] == 201, response["body"]
        url = body_of(response)["data"]["url"]
        assert dict(parse_qsl(urlsplit(url).query))["c"] == CUSTOMER_ID
        assert paddle_any.requests == []  # minting a link calls nobody but Secrets Manager (signing keys)
        assert aws.api_key_reads == 0
    elif expected == "allowed":
        assert_allowed(response, success_status(fmt, route), CUSTOMER_ID, paddle_any)
        assert aws.api_key_reads == 1
    else:
        status, code = expected
        assert_refused(response, status, code, paddle_any, aws)
        assert body_of(response)["meta"]["request_id"] == event["requestContext"]["requestId"]


# --- The claim: only a well-formed ctm_ id under the configured claim name binds a JWT caller to a customer. ---

LOOKALIKE = CUSTOMER_ID.replace("c", "\u0441", 1)  # Cyrillic es in "ctm_"
FULLWIDTH_DIGIT = CUSTOMER_ID[:-1] + "\uff4e"  # fullwidth small n
MALFORMED_CLAIMS = {
    "empty": "",
    "other_prefix": "cus_01gysfvfy7vqhpzkq8rjmrq7an",
    "upper_case": CUSTOMER_ID.upper(),
    "too_short": CUSTOMER_ID[:-1],
    "too_long": CUSTOMER_ID + "a",
    "trailing_newline": CUSTOMER_ID + "\n",
    "leading_space": " " + CUSTOMER_ID,
    "two_customers": f"{CUSTOMER_ID},{OTHER_CUSTOMER_ID}",
    "two_customers_space": f"{CUSTOMER_ID} {OTHER_CUSTOMER_ID}",
    "cyrillic_lookalike": LOOKALIKE,
    "fullwidth_lookalike": FULLWIDTH_DIGIT,
    "arabic_indic_digit": CUSTOMER_ID[:-1] + "\u0663",
    "path_traversal": f"{CUSTOMER_ID}/../{OTHER_CUSTOMER_ID}",
    "url_encoded": CUSTOMER_ID.replace("_", "%5F"),
    "list": [CUSTOMER_ID],
    "object": {"id": CUSTOMER_ID},
    "number": 12345,
    "null": None,
    "absent": ...,
}


@pytest.mark.parametrize(("fmt", "route"), [("http_api", "jwt_post"), ("rest_api", "jwt_get")])
@pytest.mark.parametrize("value", list(MALFORMED_CLAIMS.values()), ids=list(MALFORMED_CLAIMS))
def test_jwt_claim_that_is_not_exactly_one_customer_id_is_forbidden(
    fmt: str, route: str, value: Any, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    # (The claim is checked after the identity is read, the same way on every route: one route per format suffices.)
    base = REST_COGNITO_CLAIMS if fmt == "rest_api" else None
    event = set_identity(route_event(fmt, route), "jwt", claims_with(value, base))

    response = invoke(event)

    assert_refused(response, 403, "forbidden", paddle_any, aws)


def test_only_the_configured_claim_names_the_customer(
    invoke: Any, paddle_any: Any, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a deployment that reads the customer from another claim, and a token whose default-named claim
    # holds someone else
    monkeypatch.setenv("CUSTOMER_ID_CLAIM", "paddle_customer")
    claims = claims_with(OTHER_CUSTOMER_ID) | {"paddle_customer": CUSTOMER_ID}
    event = set_identity(route_event("http_api", "jwt_post"), "jwt", claims)

    response = invoke(event)

    assert_allowed(response, 201, CUSTOMER_ID, paddle_any)


def test_default_claim_is_ignored_when_another_is_configured(
    invoke: Any, paddle_any: Any, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTOMER_ID_CLAIM", "paddle_customer")
    event = set_identity(route_event("http_api", "jwt_post"), "jwt", claims_with(CUSTOMER_ID))

    response = invoke(event)

    assert_refused(response, 403, "forbidden", paddle_any, aws)


@pytest.mark.parametrize("name", ["Custom:Paddle_Customer_Id", "paddle_customer_id", "custom:paddle_customer_id "])
def test_claim_name_matches_exactly(name: str, invoke: Any, paddle_any: Any, aws: Any) -> None:
    claims = claims_with(...) | {name: CUSTOMER_ID}
    event = set_identity(route_event("http_api", "jwt_get"), "jwt", claims)

    response = invoke(event)

    assert_refused(response, 403, "forbidden", paddle_any, aws)


# --- Smuggling: a JWT caller (claim = CUSTOMER_ID) names another customer somewhere in the request. ---


def _jwt_event(fmt: str, route: str) -> dict[str, Any]:
    base = REST_COGNITO_CLAIMS if fmt == "rest_api" else None
    return set_identity(route_event(fmt, route), "jwt", claims_with(CUSTOMER_ID, base))


def _set_body(event: dict[str, Any], document: Any) -> dict[str, Any]:
    event["body"] = json.dumps(document)
    event["isBase64Encoded"] = False
    return event


def _set_query(event: dict[str, Any], pairs: list[tuple[str, str]]) -> dict[str, Any]:
    if "httpMethod" in event:
        multi: dict[str, list[str]] = {}
        for name, value in pairs:
            multi.setdefault(name, []).append(value)
        event["multiValueQueryStringParameters"] = multi
        event["queryStringParameters"] = {name: values[-1] for name, values in multi.items()}
    else:
        event["rawQueryString"] = urlencode(pairs)
        event["queryStringParameters"] = dict(pairs)
    return event


def _other_in_path_parameters(event: dict[str, Any]) -> dict[str, Any]:
    event["pathParameters"] = {"customer_id": OTHER_CUSTOMER_ID}
    return event


def _other_as_event_field(event: dict[str, Any]) -> dict[str, Any]:
    event["customer_id"] = OTHER_CUSTOMER_ID
    event["requestContext"]["customer_id"] = OTHER_CUSTOMER_ID
    return event


def _other_in_headers(event: dict[str, Any]) -> dict[str, Any]:
    spoofed = {
        "x-paddle-customer-id": OTHER_CUSTOMER_ID,
        "x-customer-id": OTHER_CUSTOMER_ID,
        "x-amzn-oidc-data": OTHER_CUSTOMER_ID,
        CLAIM: OTHER_CUSTOMER_ID,
    }
    event["headers"] = {**(event.get("headers") or {}), **spoofed}
    return event


def _other_in_lambda_authorizer_context(event: dict[str, Any]) -> dict[str, Any]:
    if "httpMethod" in event:
        event["requestContext"]["authorizer"][CLAIM + "_override"] = OTHER_CUSTOMER_ID
        event["requestContext"]["authorizer"]["principalId"] = OTHER_CUSTOMER_ID
    else:
        event["requestContext"]["authorizer"]["lambda"] = {CLAIM: OTHER_CUSTOMER_ID}
    return event


def _other_in_other_claims(event: dict[str, Any]) -> dict[str, Any]:
    authorizer = event["requestContext"]["authorizer"]
    claims = authorizer["claims"] if "httpMethod" in event else authorizer["jwt"]["claims"]
    claims.update(
        {"paddle_customer_id": OTHER_CUSTOMER_ID, "custom:customer_id": OTHER_CUSTOMER_ID, "sub": OTHER_CUSTOMER_ID}
    )
    return event


IGNORED_SMUGGLING = {
    "path_parameters": _other_in_path_parameters,
    "extra_event_fields": _other_as_event_field,
    "headers": _other_in_headers,
    "lambda_authorizer_context_beside_jwt": _other_in_lambda_authorizer_context,
    "other_claims": _other_in_other_claims,
}


@pytest.mark.parametrize("fmt", ["http_api", "rest_api"])
@pytest.mark.parametrize("route", ["jwt_post", "jwt_get"])
@pytest.mark.parametrize("smuggle", list(IGNORED_SMUGGLING.values()), ids=list(IGNORED_SMUGGLING))
def test_jwt_caller_gets_its_own_customer_whatever_else_the_event_names(
    fmt: str, route: str, smuggle: Any, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    # Given a JWT caller bound to CUSTOMER_ID whose event names OTHER_CUSTOMER_ID somewhere else
    event = smuggle(_jwt_event(fmt, route))

    response = invoke(event)

    # Then the session is the token's customer's, and Paddle never heard of the other one
    assert_allowed(response, success_status(fmt, route), CUSTOMER_ID, paddle_any)
    assert OTHER_CUSTOMER_ID not in response["body"]


REFUSED_SMUGGLING: dict[str, tuple[str, Any]] = {
    "body_customer_id": ("jwt_post", lambda e: _set_body(e, {"customer_id": OTHER_CUSTOMER_ID})),
    "body_customer_id_beside_subscriptions": (
        "jwt_post",
        lambda e: _set_body(e, {"subscription_ids": [SUBSCRIPTION_ID], "customer_id": OTHER_CUSTOMER_ID}),
    ),
    "body_direct_payload": (
        "jwt_post",
        lambda e: _set_body(e, load_event("direct/create_session.json") | {"customer_id": OTHER_CUSTOMER_ID}),
    ),
    "body_nested_event": (
        "jwt_post",
        lambda e: _set_body(e, {"requestContext": {"authorizer": {"jwt": {"claims": {CLAIM: OTHER_CUSTOMER_ID}}}}}),
    ),
    "post_query_customer_id": ("jwt_post", lambda e: _set_query(e, [("customer_id", OTHER_CUSTOMER_ID)])),
    "get_query_customer_id": ("jwt_get", lambda e: _set_query(e, [("customer_id", OTHER_CUSTOMER_ID)])),
    "get_query_customer_id_beside_action": (
        "jwt_get",
        lambda e: _set_query(e, [("action", "overview"), ("customer_id", OTHER_CUSTOMER_ID)]),
    ),
    "get_query_claim_name": ("jwt_get", lambda e: _set_query(e, [(CLAIM, OTHER_CUSTOMER_ID)])),
}


@pytest.mark.parametrize("fmt", ["http_api", "rest_api"])
@pytest.mark.parametrize(("route", "smuggle"), list(REFUSED_SMUGGLING.values()), ids=list(REFUSED_SMUGGLING))
def test_jwt_caller_naming_a_customer_in_body_or_query_is_refused(
    fmt: str, route: str, smuggle: Any, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    event = smuggle(_jwt_event(fmt, route))

    response = invoke(event)

    error = assert_refused_with_fields(response, paddle_any, aws)
    assert OTHER_CUSTOMER_ID not in json.dumps(error)


def assert_refused_with_fields(response: dict[str, Any], paddle: Any, aws: Any) -> dict[str, Any]:
    error = assert_error(response, 400, "invalid_field", fields=True)
    assert paddle.requests == []
    assert aws.get_secret_value == 0
    return error


def test_base64_body_naming_a_customer_is_refused_too(invoke: Any, paddle_any: Any, aws: Any) -> None:
    event = _jwt_event("http_api", "jwt_post")
    event["body"] = b64encode(json.dumps({"customer_id": OTHER_CUSTOMER_ID}).encode()).decode()
    event["isBase64Encoded"] = True

    response = invoke(event)

    assert_refused_with_fields(response, paddle_any, aws)


# --- Routing cannot be used to reach an IAM route with a token. ---


@pytest.mark.parametrize(
    ("route_key", "method", "path"),
    [
        ("ANY /{proxy+}", "POST", f"/customers/{OTHER_CUSTOMER_ID}/portal-sessions"),
        ("$default", "GET", f"/customers/{OTHER_CUSTOMER_ID}/portal"),
        ("POST /customers/{customer_id}/portal-sessions", "POST", f"/customers/{OTHER_CUSTOMER_ID}/portal-sessions"),
    ],
    ids=["catch_all_route", "default_route", "iam_route_given_a_jwt_authorizer"],
)
def test_jwt_caller_on_a_path_naming_a_customer_is_forbidden(
    route_key: str, method: str, path: str, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    # Given an API that (mis)routes a token-authenticated request to the function on an IAM route's path
    event = _jwt_event("http_api", "jwt_post" if method == "POST" else "jwt_get")
    event["routeKey"] = event["requestContext"]["routeKey"] = route_key
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["pathParameters"] = {"customer_id": OTHER_CUSTOMER_ID} if "{customer_id}" in route_key else None

    response = invoke(event)

    assert_refused(response, 403, "forbidden", paddle_any, aws)


@pytest.mark.parametrize("route_key", ["$default", "ANY /{proxy+}"])
def test_jwt_route_reached_through_a_catch_all_still_binds_to_the_claim(
    route_key: str, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    event = _jwt_event("http_api", "jwt_post")
    event["routeKey"] = event["requestContext"]["routeKey"] = route_key
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/portal-sessions"
    event["pathParameters"] = {"proxy": f"customers/{OTHER_CUSTOMER_ID}"}

    response = invoke(event)

    assert_allowed(response, 201, CUSTOMER_ID, paddle_any)


# --- IAM callers: trusted for any customer (IAM policy decides who may call), but only through the path. ---


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("route", ["iam_post", "iam_get"])
def test_iam_caller_acts_for_the_customer_in_the_path(
    fmt: str, route: str, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    event = set_identity(route_event(fmt, route), "iam")
    event = json.loads(json.dumps(event).replace(CUSTOMER_ID, OTHER_CUSTOMER_ID))

    response = invoke(event)

    assert_allowed(response, success_status(fmt, route), OTHER_CUSTOMER_ID, paddle_any)


@pytest.mark.parametrize(
    "fields",
    [
        {"userArn": None, "callerId": None, "accessKey": None},
        {"userArn": "", "callerId": "", "accessKey": ""},
    ],
    ids=["null_principal", "empty_principal"],
)
def test_iam_authorizer_without_a_principal_is_no_identity(
    fields: dict[str, Any], invoke: Any, paddle_any: Any, aws: Any
) -> None:
    event = set_identity(route_event("http_api", "iam_post"), "iam")
    event["requestContext"]["authorizer"]["iam"].update(fields)

    response = invoke(event)

    assert_refused(response, 401, "authentication_missing", paddle_any, aws)


@pytest.mark.parametrize(
    "fields", [{"userArn": None, "caller": None, "accessKey": None, "user": None}], ids=["null_principal"]
)
def test_rest_identity_without_a_principal_is_no_identity(
    fields: dict[str, Any], invoke: Any, paddle_any: Any, aws: Any
) -> None:
    event = set_identity(route_event("rest_api", "iam_post"), "iam")
    event["requestContext"]["identity"].update(fields)
    # An API Gateway API key identifies a usage plan, not a caller
    event["requestContext"]["identity"]["apiKey"] = "FAKE-usage-plan-key"  # pragma: allowlist secret

    response = invoke(event)

    assert_refused(response, 401, "authentication_missing", paddle_any, aws)


IAM_SMUGGLING: dict[str, tuple[str, Any]] = {
    "body_customer_id": ("iam_post", lambda e: _set_body(e, {"customer_id": OTHER_CUSTOMER_ID})),
    "body_direct_payload": ("iam_post", lambda e: _set_body(e, load_event("direct/create_session.json"))),
    "post_query_customer_id": ("iam_post", lambda e: _set_query(e, [("customer_id", OTHER_CUSTOMER_ID)])),
    "get_query_customer_id": ("iam_get", lambda e: _set_query(e, [("customer_id", OTHER_CUSTOMER_ID)])),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("route", "smuggle"), list(IAM_SMUGGLING.values()), ids=list(IAM_SMUGGLING))
def test_iam_caller_cannot_name_a_second_customer(
    fmt: str, route: str, smuggle: Any, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    event = smuggle(set_identity(route_event(fmt, route), "iam"))

    response = invoke(event)

    assert_refused_with_fields(response, paddle_any, aws)


@pytest.mark.parametrize(
    "path_customer",
    [
        "cus_01gysfvfy7vqhpzkq8rjmrq7an",
        LOOKALIKE,
        FULLWIDTH_DIGIT,
        CUSTOMER_ID.upper(),
        CUSTOMER_ID + "\n",
        f"{CUSTOMER_ID}%2F..%2F{OTHER_CUSTOMER_ID}",
        "..",
        "",
    ],
    ids=[
        "other_prefix",
        "cyrillic_lookalike",
        "fullwidth_lookalike",
        "upper_case",
        "trailing_newline",
        "encoded_traversal",
        "dot_dot",
        "empty",
    ],
)
@pytest.mark.parametrize("fmt", ["http_api", "rest_api"])
def test_iam_path_customer_must_be_a_plain_ctm_id(
    fmt: str, path_customer: str, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    event = set_identity(route_event(fmt, "iam_post"), "iam")
    event["pathParameters"] = {"customer_id": path_customer}

    response = invoke(event)

    assert_refused_with_fields(response, paddle_any, aws)


# --- Function URL and REST without auth, whatever the client sends. ---


def unsigned_jwt(claims: dict[str, Any]) -> str:
    """A JWT with `alg: none` and no signature: what a forger would send in a header the function never reads."""

    def part(document: dict[str, Any]) -> str:
        return b64encode(json.dumps(document).encode()).decode().rstrip("=").replace("+", "-").replace("/", "_")

    return f"{part({'alg': 'none'})}.{part(claims)}."


SPOOFED_HEADERS = {
    "authorization": "Bearer " + unsigned_jwt({CLAIM: OTHER_CUSTOMER_ID, "note": "FAKE unsigned token"}),
    "x-amzn-oidc-identity": "someone",
    "x-amzn-oidc-data": unsigned_jwt({"sub": "FAKE"}),
    "x-forwarded-user": "arn:aws:sts::123456789012:assumed-role/billing-backend-role/billing-backend",
    "x-amz-security-token": "FAKEFAKEFAKE",
}


@pytest.mark.parametrize(
    ("fmt", "route"),
    [
        ("function_url", "iam_get"),
        ("function_url", "iam_post"),
        ("function_url", "jwt_get"),
        ("rest_api", "iam_post"),
        ("http_api", "jwt_post"),
    ],
)
def test_anonymous_request_with_identity_looking_headers_is_unauthenticated(
    fmt: str, route: str, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    event = set_identity(route_event(fmt, route), "none")
    headers = {name.title() if fmt == "rest_api" else name: value for name, value in SPOOFED_HEADERS.items()}
    event["headers"] = {**(event.get("headers") or {}), **headers}

    response = invoke(event)

    assert_refused(response, 401, "authentication_missing", paddle_any, aws)


@pytest.mark.parametrize(
    "name",
    [
        "http_api/post_portal_sessions_no_identity.json",
        "rest_api/post_portal_sessions_no_identity.json",
        "function_url/get_portal_no_auth.json",
    ],
)
def test_sample_events_without_identity_are_unauthenticated(name: str, invoke: Any, paddle_any: Any, aws: Any) -> None:
    response = invoke(load_event(name))

    assert_refused(response, 401, "authentication_missing", paddle_any, aws)


# --- Direct invocation: IAM-trusted (lambda:InvokeFunction), strict payload, nothing else accepted. ---


def test_direct_invocation_acts_for_the_payload_customer(invoke: Any, paddle_any: Any, aws: Any) -> None:
    payload = load_event("direct/create_session.json") | {"customer_id": OTHER_CUSTOMER_ID}

    result = invoke(payload)

    assert set(result) == {"data", "meta"}
    assert customers_called(paddle_any) == [OTHER_CUSTOMER_ID]


DIRECT_REFUSED = {
    "unknown_field": load_event("direct/invalid_unknown_field.json"),
    "invalid_customer": load_event("direct/invalid_customer_id.json"),
    "s3_event": load_event("unknown/s3_event.json"),
    "identity_fields": {"customer_id": CUSTOMER_ID, "identity": {"userArn": "arn:aws:iam::123456789012:root"}},
    "claims_field": {"customer_id": CUSTOMER_ID, "claims": {CLAIM: OTHER_CUSTOMER_ID}},
    "http_body_smuggled": {
        "body": json.dumps({"customer_id": CUSTOMER_ID}),
        "httpMethod": "POST",
        "headers": {},
    },
    "lookalike_customer": {"customer_id": LOOKALIKE},
    "customer_list": {"customer_id": [CUSTOMER_ID, OTHER_CUSTOMER_ID]},
    "list_payload": [{"customer_id": CUSTOMER_ID}],
    "string_payload": json.dumps({"customer_id": CUSTOMER_ID}),
    "null_payload": None,
}


@pytest.mark.parametrize("payload", list(DIRECT_REFUSED.values()), ids=list(DIRECT_REFUSED))
def test_direct_invocation_refuses_anything_but_the_strict_payload(
    payload: Any, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    from paddle_portal.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError):
        invoke(copy.deepcopy(payload))

    assert paddle_any.requests == []
    assert aws.get_secret_value == 0


# --- Paddle's answer is checked too: a session for another customer is never handed on. ---


@pytest.mark.parametrize(("fmt", "route"), [("http_api", "jwt_post"), ("http_api", "jwt_get"), ("rest_api", "iam_get")])
def test_session_for_another_customer_is_not_handed_on(
    fmt: str, route: str, invoke: Any, paddle: Any, aws: Any
) -> None:
    # Given Paddle (or whatever PADDLE_API_BASE_URL points at) answers with another customer's session
    base = REST_COGNITO_CLAIMS if fmt == "rest_api" else None
    kind = "jwt" if route.startswith("jwt") else "iam"
    event = set_identity(route_event(fmt, route), kind, claims_with(CUSTOMER_ID, base) if kind == "jwt" else None)
    wrong = portal_session(OTHER_CUSTOMER_ID, (SUBSCRIPTION_ID,))
    paddle.answers(201, wrong, customer_id=CUSTOMER_ID)

    response = invoke(event)

    # Then the caller gets a 502, not a link into the other customer's account
    assert_error(response, 502, "bad_gateway")
    assert customers_called(paddle) == [CUSTOMER_ID]


# --- The same matrix as hand-built events of every API format (any method and path, by keyword). ---

IAM_POST, IAM_GET = f"/customers/{CUSTOMER_ID}/portal-sessions", f"/customers/{CUSTOMER_ID}/portal"
JWT_POST, JWT_GET = "/portal-sessions", "/portal"
A, B = CUSTOMER_ID, OTHER_CUSTOMER_ID


ALLOWED = [
    pytest.param(http_api("POST", IAM_POST, auth="iam"), 201, id="http-api-iam-post"),
    pytest.param(http_api("GET", IAM_GET, auth="iam", accept=BROWSER_ACCEPT), 302, id="http-api-iam-get"),
    pytest.param(http_api("POST", JWT_POST, auth="jwt"), 201, id="http-api-jwt-post"),
    pytest.param(http_api("GET", JWT_GET, auth="jwt", accept=BROWSER_ACCEPT), 302, id="http-api-jwt-get"),
    pytest.param(rest_api("POST", IAM_POST, auth="iam"), 201, id="rest-api-iam-post"),
    pytest.param(rest_api("GET", IAM_GET, auth="iam", accept=BROWSER_ACCEPT), 302, id="rest-api-iam-get"),
    pytest.param(rest_api("POST", JWT_POST, auth="cognito"), 201, id="rest-api-cognito-post"),
    pytest.param(rest_api("GET", JWT_GET, auth="cognito", accept=BROWSER_ACCEPT), 302, id="rest-api-cognito-get"),
    pytest.param(function_url("POST", IAM_POST, auth="iam"), 201, id="function-url-iam-post"),
    pytest.param(function_url("GET", IAM_GET, auth="iam", accept=BROWSER_ACCEPT), 302, id="function-url-iam-get"),
    pytest.param(http_api("POST", IAM_POST, auth="iam", route_key="$default"), 201, id="http-api-catch-all-route"),
    pytest.param(rest_api("GET", "/portal", auth="cognito", accept="application/json"), 200, id="rest-api-json"),
]


@pytest.mark.parametrize(("event", "status"), ALLOWED)
def test_allowed_callers_get_the_session_paddle_made(
    event: dict[str, Any], status: int, invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    sent = paddle.creates_session(A)

    response = invoke(event)

    assert response["statusCode"] == status, response["body"]
    assert response["headers"]["Cache-Control"] == "no-store"
    if status == 302:
        assert response["headers"]["Location"] == sent["data"]["urls"]["general"]["overview"]
    else:
        assert body_of(response)["data"] == sent["data"]
    [request] = paddle.requests
    assert request.path == f"/customers/{A}/portal-sessions"


REFUSED_CALLERS = [
    # Routing: no such route, or an IAM route's path that is not a customer id.
    pytest.param(
        http_api("DELETE", f"/customers/{A}/portal-sessions", auth="iam", route_key="$default"),
        404,
        "not_found",
        id="http-api-unknown-method",
    ),
    pytest.param(function_url("GET", "/", auth="iam"), 404, "not_found", id="function-url-root"),
    pytest.param(
        function_url("POST", f"/customers/{A}/portal", auth="iam"),
        404,
        "not_found",
        id="function-url-post-on-get-route",
    ),
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
    # A token whose claim is absent (an ID token without it), or a claim of the wrong shape on REST.
    pytest.param(
        http_api("GET", JWT_GET, auth="jwt", token_claims=claims(None)),
        403,
        "forbidden",
        id="http-api-jwt-claim-absent",
    ),
    pytest.param(
        rest_api("POST", JWT_POST, auth="cognito", token_claims=claims("ctm_123")),
        403,
        "forbidden",
        id="rest-api-cognito-claim-malformed",
    ),
    # A JWT caller naming another customer in a path reaches an IAM route, and is refused there.
    pytest.param(
        http_api("GET", f"/customers/{B}/portal", auth="jwt"), 403, "forbidden", id="http-api-jwt-other-customer-path"
    ),
    pytest.param(
        http_api("POST", f"/customers/{B}/portal-sessions", auth="jwt", route_key="$default"),
        403,
        "forbidden",
        id="http-api-jwt-catch-all-other-customer-path",
    ),
    pytest.param(
        rest_api("GET", f"/customers/{B}/portal", auth="cognito"),
        403,
        "forbidden",
        id="rest-api-cognito-other-customer-path",
    ),
]


@pytest.mark.parametrize(("event", "status", "code"), REFUSED_CALLERS)
def test_refused_callers_reach_neither_paddle_nor_secrets_manager(
    event: dict[str, Any], status: int, code: str, invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    # Given Paddle would answer for anyone
    paddle.creates_session(A)
    paddle.creates_session(B)

    # When
    response = invoke(event)

    # Then the request is refused, and nothing outside was asked
    assert_refused(response, status, code, paddle, aws)
    assert body_of(response)["meta"]["request_id"] == event["requestContext"]["requestId"]
    assert B not in body_of(response)["error"]["detail"]


# An access token passes a JWT authorizer that lists the app client (its client_id), but it is not the token the JWT
# routes take: refused even when it carries a customer claim (Cognito's pre-token-generation trigger can add claims
# to access tokens) or a verified email, with a detail that names the token to send instead.
ACCESS_WITH_CLAIM = {**ACCESS_TOKEN_CLAIMS, CLAIM: A, "email": "jane@example.com", "email_verified": "true"}


@pytest.mark.parametrize("lookup", ["claim", "verified_email"])
@pytest.mark.parametrize(
    "event",
    [
        pytest.param(http_api("POST", JWT_POST, auth="jwt", token_claims=ACCESS_TOKEN_CLAIMS), id="access-token"),
        pytest.param(
            http_api("GET", JWT_GET, auth="jwt", token_claims=ACCESS_WITH_CLAIM), id="access-token-with-claim"
        ),
        pytest.param(
            http_api("POST", "/portal-links", auth="jwt", token_claims=ACCESS_WITH_CLAIM), id="access-token-mint"
        ),
    ],
)
def test_access_tokens_are_refused_naming_the_id_token(
    event: dict[str, Any], lookup: str, invoke: Any, paddle: PaddleStub, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Paddle would answer for anyone, and either way of knowing the customer
    monkeypatch.setenv("CUSTOMER_LOOKUP", lookup)
    paddle.creates_session(A)

    # When an access token's claims arrive on a JWT route
    response = invoke(copy.deepcopy(event))

    # Then it is refused before anything outside is asked, and the detail says to send the ID token
    assert_refused(response, 403, "forbidden", paddle, aws)
    assert "ID token" in body_of(response)["error"]["detail"]


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(
            http_api("GET", f"/customers/{B}/portal", auth="jwt", route_key="GET /portal", accept=BROWSER_ACCEPT),
            id="http-api-jwt-route-key-wins-over-raw-path",
        ),
    ],
)
def test_jwt_routes_never_honour_a_path_customer(
    event: dict[str, Any], invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    # Given a token for customer A, and customer B named in the request's path
    paddle.creates_session(A)
    paddle.creates_session(B)

    # When
    response = invoke(event)

    # Then the session is customer A's, never B's
    assert response["statusCode"] in (201, 302), response["body"]
    assert [request.path for request in paddle.requests] == [f"/customers/{A}/portal-sessions"]


@pytest.mark.parametrize(
    ("event", "code"),
    [
        pytest.param(
            http_api("POST", JWT_POST, auth="jwt", body={"customer_id": B}), "invalid_field", id="customer_id-in-body"
        ),
        pytest.param(
            http_api("GET", JWT_GET, auth="jwt", query={"customer_id": B}), "invalid_field", id="customer_id-in-query"
        ),
        pytest.param(
            rest_api("GET", JWT_GET, auth="cognito", query={"customer_id": [B]}),
            "invalid_field",
            id="rest-customer_id-in-query",
        ),
    ],
)
def test_jwt_routes_refuse_a_customer_named_elsewhere(
    event: dict[str, Any], code: str, invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    response = invoke(event)

    error = assert_error(response, 400, code, fields=True)
    assert [item["field"] for item in error["errors"]] == ["customer_id"]
    assert paddle.requests == []
    assert aws.get_secret_value == 0
