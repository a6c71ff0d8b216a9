"""Building blocks of the security tier: events rewritten per case from the repository's own `events/` files
(identity, route, format), and a Paddle stand-in handler that answers for whichever customer it is asked about,
so a test sees *which* customer the function asked for instead of a 500 from an unexpected path."""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qsl

from tests.conftest import load_event
from tests.support import CUSTOMER_ID, PaddleStub, portal_session

CLAIM = "custom:paddle_customer_id"

# Identities exactly as API Gateway delivers them, taken from the events/ files.
IAM_V2: dict[str, Any] = load_event("http_api/post_portal_sessions_iam.json")["requestContext"]["authorizer"]["iam"]
ID_TOKEN_CLAIMS: dict[str, Any] = load_event("http_api/post_portal_sessions_jwt.json")["requestContext"]["authorizer"][
    "jwt"
]["claims"]
ACCESS_TOKEN_CLAIMS: dict[str, Any] = load_event("http_api/get_portal_jwt_missing_claim.json")["requestContext"][
    "authorizer"
]["jwt"]["claims"]
REST_IAM_IDENTITY: dict[str, Any] = load_event("rest_api/post_portal_sessions_iam.json")["requestContext"]["identity"]
REST_ANONYMOUS_IDENTITY: dict[str, Any] = load_event("rest_api/post_portal_sessions_no_identity.json")[
    "requestContext"
]["identity"]
REST_COGNITO_CLAIMS: dict[str, Any] = load_event("rest_api/get_portal_cognito.json")["requestContext"]["authorizer"][
    "claims"
]

SESSION_PATH = re.compile(r"^/customers/[^/]+/portal-sessions$")

# Signed portal links: the secret holding the HMAC keys (obviously fake: 64 letters and digits, as the template's
# GenerateSecretString makes them) and the base URL links point at.
SIGNING_SECRET_ID = "paddle-portal/link-signing-keys"
SIGNING_SECRET = json.dumps({"active": "k1", "k1": "FAKEsigningKEYk1" + "0" * 48, "k0": "FAKEsigningKEYk0" + "1" * 48})
OTHER_SIGNING_SECRET = json.dumps({"active": "k1", "k1": "FAKEotherKEYk1xx" + "2" * 48})


def claims_with(value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """ID-token claims whose customer claim holds `value` (the key is dropped when `value` is ...)."""
    claims = copy.deepcopy(base if base is not None else ID_TOKEN_CLAIMS)
    claims.pop(CLAIM, None)
    if value is not ...:
        claims[CLAIM] = value
    return claims


def is_rest(event: dict[str, Any]) -> bool:
    return "httpMethod" in event


def set_identity(event: dict[str, Any], kind: str, claims: dict[str, Any] | None = None) -> dict[str, Any]:
    """Replace whatever identity the event carries with one of: none, iam, jwt (with `claims`), lambda_authorizer
    (a Lambda authorizer's context naming a customer: not an identity this function accepts)."""
    context = event["requestContext"]
    context.pop("authorizer", None)
    if is_rest(event):
        context["identity"] = copy.deepcopy(REST_IAM_IDENTITY if kind == "iam" else REST_ANONYMOUS_IDENTITY)
        if kind == "jwt":
            context["authorizer"] = {"claims": copy.deepcopy(claims)}
        elif kind == "lambda_authorizer":
            # REST puts a Lambda authorizer's context (strings, numbers, booleans only) straight under `authorizer`.
            context["authorizer"] = {"principalId": "user-4711", "integrationLatency": 12, CLAIM: CUSTOMER_ID}
    elif kind == "iam":
        context["authorizer"] = {"iam": copy.deepcopy(IAM_V2)}
    elif kind == "jwt":
        context["authorizer"] = {"jwt": {"claims": copy.deepcopy(claims), "scopes": None}}
    elif kind == "lambda_authorizer":
        context["authorizer"] = {"lambda": {CLAIM: CUSTOMER_ID, "customer_id": CUSTOMER_ID}}
    elif kind != "none":
        raise ValueError(kind)
    return event


def _with_path(event: dict[str, Any], path: str) -> dict[str, Any]:
    """A Function URL event for another path (Function URLs route on rawPath alone)."""
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    return event


def _rest_post_portal_sessions() -> dict[str, Any]:
    """REST v1 `POST /portal-sessions` (no file of its own: derived from the IAM POST event)."""
    event = load_event("rest_api/post_portal_sessions_iam.json")
    event.update(resource="/portal-sessions", path="/portal-sessions", pathParameters=None)
    event["requestContext"].update(resourcePath="/portal-sessions", path="/prod/portal-sessions")
    return event


FORMATS = ("http_api", "rest_api", "function_url")
ROUTES = ("iam_post", "iam_get", "jwt_post", "jwt_get", "link_mint", "link_follow")
# How each route authenticates its caller (the signed-link route: the link itself, not the caller).
ROUTE_AUTH = {
    "iam_post": "iam",
    "iam_get": "iam",
    "jwt_post": "jwt",
    "jwt_get": "jwt",
    "link_mint": "iam",
    "link_follow": "link",
}


def signed_query(
    customer_id: str = CUSTOMER_ID,
    action: str = "overview",
    subscription_id: str | None = None,
    *,
    expires_in: int = 3600,
    secret: str = SIGNING_SECRET,
) -> str:
    """The query string of a genuine signed link, made with the function's own signer and the test keys."""
    import time

    from paddle_portal.signed_links import LinkClaims, SigningKeys, sign

    claims = LinkClaims(customer_id, action, subscription_id, int(time.time()) + expires_in)  # type: ignore[arg-type]
    return sign(claims, SigningKeys.parse(secret))


def with_query(event: dict[str, Any], query: str) -> dict[str, Any]:
    """`event` with this raw query string, in the form its format carries it."""
    pairs = parse_qsl(query, keep_blank_values=True)
    if is_rest(event):
        multi: dict[str, list[str]] = {}
        for name, value in pairs:
            multi.setdefault(name, []).append(value)
        event["multiValueQueryStringParameters"] = multi or None
        event["queryStringParameters"] = {name: values[-1] for name, values in multi.items()} or None
    else:
        event["rawQueryString"] = query
        event["queryStringParameters"] = dict(pairs) or None
    return event


def _retarget(event: dict[str, Any], method: str, template: str, path: str, customer_id: str | None) -> dict[str, Any]:
    """`event` moved to another route of the same format (route key, paths, path parameters)."""
    path_parameters = {"customer_id": customer_id} if customer_id else None
    if is_rest(event):
        event.update(httpMethod=method, resource=template, path=path, pathParameters=path_parameters)
        event["requestContext"].update(httpMethod=method, resourcePath=template, path=f"/prod{path}")
        return event
    route_key = "$default" if event["routeKey"] == "$default" else f"{method} {template}"
    event.update(routeKey=route_key, rawPath=path, pathParameters=path_parameters)
    event["requestContext"].update(routeKey=route_key)
    event["requestContext"]["http"].update(method=method, path=path)
    if route_key == "$default":
        event.pop("pathParameters", None)  # Function URLs route on rawPath alone
    return event


def _link_mint(fmt: str) -> dict[str, Any]:
    source = {"http_api": "http_api", "rest_api": "rest_api", "function_url": "function_url"}[fmt]
    event = load_event(f"{source}/post_portal_sessions_iam.json")
    template = "/customers/{customer_id}/portal-links"
    event = _retarget(event, "POST", template, f"/customers/{CUSTOMER_ID}/portal-links", CUSTOMER_ID)
    event["body"] = json.dumps({"action": "overview"})
    event["isBase64Encoded"] = False
    return event


def _link_follow(fmt: str) -> dict[str, Any]:
    name = {
        "http_api": "http_api/get_portal_iam",
        "rest_api": "rest_api/get_portal_iam",
        "function_url": "function_url/get_portal_no_auth",
    }[fmt]
    event = _retarget(load_event(f"{name}.json"), "GET", "/links/portal", "/links/portal", None)
    return with_query(event, signed_query())


def route_event(fmt: str, route: str) -> dict[str, Any]:
    """A fresh event of format `fmt` for `route`, as close to an events/ file as the pair allows. The signed-link
    follow event carries a genuine link for CUSTOMER_ID's overview, valid for an hour."""
    if route == "link_mint":
        return _link_mint(fmt)
    if route == "link_follow":
        return _link_follow(fmt)
    if fmt == "http_api":
        name = {
            "iam_post": "post_portal_sessions_iam",
            "iam_get": "get_portal_iam",
            "jwt_post": "post_portal_sessions_jwt",
            "jwt_get": "get_portal_jwt",
        }[route]
        return load_event(f"http_api/{name}.json")
    if fmt == "rest_api":
        if route == "jwt_post":
            return _rest_post_portal_sessions()
        name = {"iam_post": "post_portal_sessions_iam", "iam_get": "get_portal_iam", "jwt_get": "get_portal_cognito"}
        return load_event(f"rest_api/{name[route]}.json")
    if fmt == "function_url":
        if route == "iam_post":
            return load_event("function_url/post_portal_sessions_iam.json")
        if route == "iam_get":
            return load_event("function_url/get_portal_no_auth.json")
        if route == "jwt_post":
            return _with_path(load_event("function_url/post_portal_sessions_iam.json"), "/portal-sessions")
        return _with_path(load_event("function_url/get_portal_no_auth.json"), "/portal")
    raise ValueError(fmt)


def success_status(fmt: str, route: str) -> int:
    """POST answers 201; GET answers 302, or 200 where the event asks for JSON (`Accept: application/json`)."""
    if route.endswith("post") or route == "link_mint":
        return 201
    wants_json = {("http_api", "jwt_get"), ("rest_api", "jwt_get")}
    return 200 if (fmt, route) in wants_json else 302


def respond_as_paddle(request: Any) -> Any:
    """Paddle's 201 for the customer in the path and the subscriptions in the body (whatever they are)."""
    from werkzeug import Response

    customer_id = request.path.split("/")[2]
    try:
        sent = json.loads(request.get_data() or b"{}")
    except ValueError:
        sent = {}
    subscription_ids = tuple(sent.get("subscription_ids", ())) if isinstance(sent, dict) else ()
    body = portal_session(customer_id, subscription_ids)
    request_id = str(uuid.uuid4())
    body["meta"]["request_id"] = request_id
    return Response(json.dumps(body), status=201, content_type="application/json", headers={"Request-Id": request_id})


def customers_called(paddle: PaddleStub) -> list[str]:
    """The customer of every request Paddle received, in order."""
    return [request.path.split("/")[2] for request in paddle.requests]
