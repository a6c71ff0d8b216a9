"""Reading the three HTTP event formats into one `HttpRequest` (`events.from_v2`: HTTP API 2.0 and Function URLs;
`rest_events.from_rest`: REST API 1.0) and routing it (`routes.parse_http_event`). This is where the formats differ:
who the caller is, and how path, query, body, headers, cookies and the API's own URL arrive."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from paddle_portal.errors import InvalidRequestError, RouteNotFoundError
from paddle_portal.http_api.events import HttpRequest, IamIdentity, JwtIdentity, from_v2
from paddle_portal.http_api.rest_events import from_rest
from paddle_portal.http_api.routes import parse_http_event
from tests.events import ID_TOKEN_CLAIMS, REST_COGNITO_CLAIMS, load_event, route_event, set_identity
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, SUBSCRIPTION_ID

ROLE = "arn:aws:sts::123456789012:assumed-role/billing-backend-role/billing-backend"
V2_POST, V2_GET = "http_api/post_portal_sessions_iam.json", "http_api/get_portal_iam.json"
V2_JWT, V2_LINK = "http_api/get_portal_jwt.json", "http_api/get_links_portal.json"
REST_POST, REST_GET = "rest_api/post_portal_sessions_iam.json", "rest_api/get_portal_iam.json"
FURL_POST = "function_url/post_portal_sessions_iam.json"
REST_USER = load_event(REST_POST)["requestContext"]["identity"]["userArn"]
BODY = f'{{"subscription_ids":["{SUBSCRIPTION_ID}"]}}'.encode()
GATEWAY = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
NO_PRINCIPAL = {"userArn": None, "caller": None, "accessKey": None, "user": None}
USAGE_PLAN_KEY = "FAKE-usage-plan-key"  # pragma: allowlist secret


def ev(name: str, *path: str, **changes: Any) -> dict[str, Any]:
    """`events/<name>` with `changes` made in the object at `path` (keys into the event)."""
    event = copy.deepcopy(load_event(name))
    target = event
    for key in path:
        target = target[key]
    target.update(changes)
    return event


IAM, ID, CTX = ("requestContext", "authorizer", "iam"), "identity", "requestContext"


READS: dict[str, tuple[dict[str, Any], str, Any]] = {
    # Who the caller is
    "v2-iam": (ev(V2_POST), ID, IamIdentity(ROLE)),
    "v2-caller-id": (ev(V2_POST, *IAM, userArn=None, callerId="AROAX:x"), ID, IamIdentity("AROAX:x")),
    "v2-iam-null-principal": (ev(V2_POST, *IAM, userArn=None, callerId=None, accessKey=None), ID, None),
    "v2-iam-empty-principal": (ev(V2_POST, *IAM, userArn="", callerId="", accessKey=""), ID, None),
    "v2-jwt": (ev(V2_JWT), ID, JwtIdentity(ID_TOKEN_CLAIMS)),
    "v2-no-authorizer": (ev("http_api/post_portal_sessions_no_identity.json"), ID, None),
    "furl-iam": (ev(FURL_POST), ID, IamIdentity(ROLE)),
    "furl-auth-none": (ev("function_url/get_portal_no_auth.json"), ID, None),
    "rest-iam": (ev(REST_POST), ID, IamIdentity(REST_USER)),
    "rest-caller": (ev(REST_POST, CTX, ID, userArn=None, caller="AIDAX"), ID, IamIdentity("AIDAX")),
    "rest-cognito": (ev("rest_api/get_portal_cognito.json"), ID, JwtIdentity(REST_COGNITO_CLAIMS)),
    "rest-null-identity": (ev("rest_api/post_portal_sessions_no_identity.json"), ID, None),
    "rest-usage-plan-key-only": (ev(REST_POST, CTX, ID, **NO_PRINCIPAL, apiKey=USAGE_PLAN_KEY), ID, None),
    "rest-lambda-authorizer": (set_identity(route_event("rest_api", "iam_post"), "lambda_authorizer"), ID, None),
    # The query: repeats kept apart, values decoded
    "v2-raw-query-keeps-repeats": (
        ev(V2_GET, rawQueryString="action=a&action=b"),
        "query",
        [("action", "a"), ("action", "b")],
    ),
    "v2-raw-query-not-its-comma-joined-copy": (
        ev(V2_GET, rawQueryString="action=a&action=a", queryStringParameters={"action": "a,a"}),
        "query",
        [("action", "a"), ("action", "a")],
    ),
    "v2-parsed-query-without-raw": (ev(V2_GET, queryStringParameters={"action": "a"}), "query", [("action", "a")]),
    "v2-query-decoded-blanks-kept": (ev(V2_GET, rawQueryString="a=%0D%0A&b"), "query", [("a", "\r\n"), ("b", "")]),
    "rest-multi-value-keeps-repeats": (
        ev(REST_GET, "multiValueQueryStringParameters", action=["overview", "x"], subscription_id=[]),
        "query",
        [("action", "overview"), ("action", "x")],
    ),
    "rest-single-value-query": (
        ev(REST_GET, multiValueQueryStringParameters=None),
        "query",
        [("action", "cancel_subscription"), ("subscription_id", SUBSCRIPTION_ID)],
    ),
    # The body, decoded
    "v2-base64-body": (ev(V2_POST), "body", BODY),
    "v2-text-body": (ev("http_api/post_portal_sessions_not_json.json"), "body", b"not json"),
    "furl-base64-body": (ev(FURL_POST), "body", BODY),
    "rest-base64-body": (ev(REST_POST, body="eyJhIjoxfQ==", isBase64Encoded=True), "body", b'{"a":1}'),
    "no-body": (ev("http_api/post_portal_sessions_iam_no_body.json"), "body", b""),
    # Headers in lower case, cookies where each format carries them
    "rest-header-names-lower-cased": (ev("rest_api/get_portal_cognito.json"), "accept", "application/json"),
    "v2-cookies": (ev(V2_LINK, cookies=["a=b", "portal_busy=2"]), "cookie", "2"),
    "rest-cookie-header": (ev(REST_GET, "headers", Cookie="x=1; portal_busy=1"), "cookie", "1"),
    "another-cookie": (ev(V2_LINK, cookies=["portal_busy_2=1"]), "cookie", None),
    # The API's own URL: from the gateway's domain and stage, never from a header; none on a custom domain
    "v2-url": (ev(V2_POST, "headers", host="evil.test"), "public_url", GATEWAY),
    "v2-url-named-stage": (ev(V2_POST, CTX, stage="live"), "public_url", f"{GATEWAY}/live"),
    "rest-url-stage": (ev(REST_POST), "public_url", f"{GATEWAY}/prod"),
    "furl-url": (ev(FURL_POST), "public_url", "https://q7xk3m2vb5n4t6y8w9z2c4r6p8s1d3f5.lambda-url.us-east-1.on.aws"),
    "custom-domain-no-url": (ev(V2_POST, CTX, domainName="billing.example.com"), "public_url", None),
    "not-a-host-name-no-url": (ev(V2_POST, CTX, domainName="evil.test/x.amazonaws.com"), "public_url", None),
}


@pytest.mark.parametrize(("event", "what", "expected"), list(READS.values()), ids=list(READS))
def test_what_each_format_carries(event, what, expected):
    request: HttpRequest = from_rest(event) if "httpMethod" in event else from_v2(event)

    read = {
        "body": request.body,
        "cookie": lambda: request.cookie("portal_busy"),
        "accept": lambda: request.headers["accept"],
    }
    assert read.get(what, lambda: getattr(request, what))() == expected


ACCEPT = {
    "json": ("application/json", True),
    "any-case-with-parameter": ("APPLICATION/JSON; charset=utf-8", True),
    "listed": ("text/html, application/json;q=0.9", True),
    "low-weight": ("application/json;q=0.1", True),
    "refused": ("application/json;q=0", False),
    "refused-0.000": ("application/json; Q=0.000", False),
    "unreadable-weight": ("application/json;q=high", False),
    "jsonp": ("application/jsonp", False),
    "browser": ("text/html,application/xhtml+xml,*/*;q=0.8", False),
    "none": ("", False),
}


@pytest.mark.parametrize(("accept", "wants_json"), list(ACCEPT.values()), ids=list(ACCEPT))
def test_wants_json(accept, wants_json):
    assert from_v2(ev(V2_GET, "headers", accept=accept)).wants_json() is wants_json


# --- Routing: by the gateway's route key, else by the path (Function URLs, catch-all routes) ---

IAM_POST, A = "POST /customers/{customer_id}/portal-sessions", {"customer_id": CUSTOMER_ID}
CATCH_ALL_ON_STAGE = ev(V2_POST, routeKey="$default", rawPath=f"/prod/customers/{CUSTOMER_ID}/portal-sessions")
CATCH_ALL_ON_STAGE["requestContext"].update(routeKey="$default", stage="prod")
del CATCH_ALL_ON_STAGE["pathParameters"]


def furl(method: str, path: str) -> dict[str, Any]:
    event = ev(FURL_POST, rawPath=path)
    event["requestContext"]["http"]["method"] = method
    return event


ROUTED: dict[str, tuple[dict[str, Any], Any]] = {
    "route-key": (ev(V2_JWT), ("GET /portal", {})),
    "route-key-wins-over-the-path": (ev(V2_JWT, rawPath=f"/customers/{OTHER_CUSTOMER_ID}/portal"), ("GET /portal", {})),
    "catch-all-on-a-named-stage": (CATCH_ALL_ON_STAGE, (IAM_POST, A)),
    "function-url-path": (ev(FURL_POST), (IAM_POST, A)),
    "function-url-link-route": (route_event("function_url", "link_follow"), ("GET /links/portal", {})),
    "rest-resource": (ev(REST_GET), ("GET /customers/{customer_id}/portal", A)),
    "hand-written-v2": (
        {"routeKey": IAM_POST, "rawPath": "/", "pathParameters": A, "requestContext": {"http": {"method": "POST"}}},
        (IAM_POST, A),
    ),
    "hand-written-rest-null-headers": (
        {"resource": "/portal", "path": "/", "httpMethod": "GET", "headers": None, "requestContext": {}},
        ("GET /portal", {}),
    ),
    "wrong-method": (furl("DELETE", f"/customers/{CUSTOMER_ID}/portal-sessions"), RouteNotFoundError),
    "post-on-a-get-route": (furl("POST", f"/customers/{CUSTOMER_ID}/portal"), RouteNotFoundError),
    "longer-path": (furl("GET", f"/customers/{CUSTOMER_ID}/portal/extra"), RouteNotFoundError),
    "empty-request-context": ({"requestContext": {}}, InvalidRequestError),
    "rest-missing-fields": ({"requestContext": {"requestId": "x"}, "httpMethod": "GET"}, InvalidRequestError),
    "v2-raw-path-null": (ev(V2_GET, rawPath=None), InvalidRequestError),
    "v2-no-method": (ev(V2_GET, "requestContext", http=None), InvalidRequestError),
}


@pytest.mark.parametrize(("event", "expected"), list(ROUTED.values()), ids=list(ROUTED))
def test_route(event, expected):
    if isinstance(expected, type):
        with pytest.raises(expected):
            parse_http_event(event)
    else:
        route, request = parse_http_event(event)
        assert (route.key, request.path_params) == expected
