"""The tests' one event-builder module: the repository's `events/` files (the ones `sam local invoke -e` uses), and
variations of them (`route_event`: a route's event in a format, its caller, query, body or Accept header replaced).
Each builder starts from a real file, so the result stays what AWS delivers."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from tests.support import CUSTOMER_ID

REPO = Path(__file__).resolve().parent.parent
EVENTS = REPO / "events"
CLAIM = "custom:paddle_customer_id"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def load_event(name: str) -> dict[str, Any]:
    """One of the repository's `events/*.json` files, a fresh copy."""
    return json.loads((EVENTS / name).read_text())


def http_event(
    name: str,
    body: str | None = None,
    *,
    base64_body: bool = False,
    query: str | None = None,
    accept: str | None = None,
) -> dict[str, Any]:
    """`events/<name>` with `body` (None: no body), `query` (the raw query string) and `accept` replaced."""
    event = load_event(name)
    if accept is not None:
        event["headers"]["accept"] = accept
    event.pop("body", None)
    event["isBase64Encoded"] = base64_body and body is not None
    if body is not None:
        event["body"] = base64.b64encode(body.encode()).decode() if base64_body else body
    if query is not None:
        event["rawQueryString"] = query
    return event


def _part(name: str, *path: str) -> dict[str, Any]:
    part = load_event(name)["requestContext"]
    for key in path:
        part = part[key]
    return part


# Identities exactly as API Gateway delivers them, taken from the events/ files.
IAM_V2 = _part("http_api/post_portal_sessions_iam.json", "authorizer", "iam")
ID_TOKEN_CLAIMS = _part("http_api/get_portal_jwt.json", "authorizer", "jwt", "claims")
ACCESS_TOKEN_CLAIMS = _part("http_api/get_portal_jwt_missing_claim.json", "authorizer", "jwt", "claims")
REST_IAM_IDENTITY = _part("rest_api/post_portal_sessions_iam.json", "identity")
REST_ANONYMOUS_IDENTITY = _part("rest_api/post_portal_sessions_no_identity.json", "identity")
REST_COGNITO_CLAIMS = _part("rest_api/get_portal_cognito.json", "authorizer", "claims")

# Signed portal links: the secret holding the HMAC keys (obviously fake: 64 letters and digits, as the template's
# GenerateSecretString makes them).
SIGNING_SECRET_ID = "paddle-portal/link-signing-keys"
SIGNING_SECRET = json.dumps({"active": "k1", "k1": "FAKEsigningKEYk1" + "0" * 48, "k0": "FAKEsigningKEYk0" + "1" * 48})


def claims_with(value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """ID-token claims whose customer claim holds `value` (the claim is dropped when `value` is ...)."""
    claims = copy.deepcopy(base if base is not None else ID_TOKEN_CLAIMS)
    claims.pop(CLAIM, None)
    if value is not ...:
        claims[CLAIM] = value
    return claims


def set_identity(event: dict[str, Any], kind: str, claims: dict[str, Any] | None = None) -> dict[str, Any]:
    """Replace whatever identity the event carries with one of: none, iam, jwt (with `claims`, by default an ID token
    for CUSTOMER_ID), lambda_authorizer (a Lambda authorizer's context naming a customer: not an identity)."""
    context, claims = event["requestContext"], claims_with(CUSTOMER_ID) if claims is None else claims
    context.pop("authorizer", None)
    if "httpMethod" in event:
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
    if "httpMethod" in event:
        multi: dict[str, list[str]] = {}
        for name, value in pairs:
            multi.setdefault(name, []).append(value)
        event["multiValueQueryStringParameters"] = multi or None
        event["queryStringParameters"] = {name: values[-1] for name, values in multi.items()} or None
    else:
        event["rawQueryString"] = query
        event["queryStringParameters"] = dict(pairs) or None
    return event


# --- One event per (format, route) ---

FORMATS = ("http_api", "rest_api", "function_url")
# Each route of the function: its method, path template, and how it authenticates its caller (the signed-link
# route: the link itself, not the caller).
TEMPLATES = {
    "iam_post": ("POST", "/customers/{customer_id}/portal-sessions", "iam"),
    "iam_get": ("GET", "/customers/{customer_id}/portal", "iam"),
    "jwt_post": ("POST", "/portal-sessions", "jwt"),
    "jwt_get": ("GET", "/portal", "jwt"),
    "link_mint": ("POST", "/customers/{customer_id}/portal-links", "iam"),
    "jwt_mint": ("POST", "/portal-links", "jwt"),
    "link_follow": ("GET", "/links/portal", "link"),
}
ROUTES = tuple(TEMPLATES)
ROUTE_AUTH = {route: auth for route, (_, _, auth) in TEMPLATES.items()}
# The events/ file a route's event starts from: the file of that very route where there is one, else the IAM POST or
# GET file of the format (a Function URL's GET file has no auth); the route is then moved where it belongs.
_OWN_FILES = {
    "http_api/jwt_post": "post_portal_sessions_jwt",
    "http_api/jwt_get": "get_portal_jwt",
    "http_api/link_mint": "post_portal_links_iam",
    "http_api/jwt_mint": "post_portal_links_jwt",
    "rest_api/jwt_get": "get_portal_cognito",
}


def _retarget(event: dict[str, Any], route: str, customer_id: str) -> dict[str, Any]:
    """`event` moved to another route of the same format (route key, paths, path parameters)."""
    method, template, _ = TEMPLATES[route]
    path = template.replace("{customer_id}", customer_id)
    params = {"customer_id": customer_id} if "{customer_id}" in template else None
    if "httpMethod" in event:
        event.update(httpMethod=method, resource=template, path=path, pathParameters=params)
        event["requestContext"].update(httpMethod=method, resourcePath=template, path=f"/prod{path}")
        return event
    route_key = "$default" if event["routeKey"] == "$default" else f"{method} {template}"
    event.update(routeKey=route_key, rawPath=path, pathParameters=params)
    event["requestContext"].update(routeKey=route_key)
    event["requestContext"]["http"].update(method=method, path=path)
    if route_key == "$default":
        event.pop("pathParameters")  # Function URLs route on rawPath alone
    return event


def route_event(
    fmt: str,
    route: str,
    caller: str | None = None,
    claims: dict[str, Any] | None = None,
    *,
    customer_id: str = CUSTOMER_ID,
    query: str | None = None,
    body: Any = ...,
    accept: str | None = None,
) -> dict[str, Any]:
    """A fresh event of format `fmt` for `route`, as close to an events/ file as the pair allows (a minting route of
    another format than HTTP API carries `{"action": "overview"}`; the signed-link route carries a genuine link for
    CUSTOMER_ID's overview, valid an hour). Replaced on request: the caller (`set_identity`), the path's customer, the
    raw query, the body (None: none; bytes: sent base64-encoded; a non-text value: as JSON) and the Accept header."""
    get_file = "get_portal_no_auth" if fmt == "function_url" else "get_portal_iam"
    source = _OWN_FILES.get(f"{fmt}/{route}", "post_portal_sessions_iam" if TEMPLATES[route][0] == "POST" else get_file)
    event = _retarget(load_event(f"{fmt}/{source}.json"), route, customer_id)
    if fmt != "http_api" and route.endswith("mint"):
        event["body"], event["isBase64Encoded"] = json.dumps({"action": "overview"}), False
    if caller is not None:
        set_identity(event, caller, claims)
    if query is not None or route == "link_follow":
        with_query(event, signed_query() if query is None else query)
    if body is not ...:
        text = body if body is None or isinstance(body, str | bytes) else json.dumps(body)
        encoded = isinstance(text, bytes)
        event["body"], event["isBase64Encoded"] = base64.b64encode(text).decode() if encoded else text, encoded
    if accept is not None:
        event["headers"] = {name: value for name, value in event["headers"].items() if name.lower() != "accept"}
        event["headers"]["accept"], event["multiValueHeaders"] = accept, None
    return event
