"""The tests' one event-builder module: the repository's `events/` files (the same ones `sam local invoke -e` uses),
and variations of them with the caller, route, query, body or Accept header changed. Each builder starts from a real
event file, so the result stays what AWS delivers.

- `load_event`, `http_event`: a file as it is, or with its body, query or Accept header replaced;
- `http_api`, `function_url`, `rest_api`: an event of that format for any method and path, by keyword;
- `route_event`, `set_identity`, `with_query`, `signed_query`: one event per (format, route) of the function, its
  identity replaced (none, IAM, JWT claims, a Lambda authorizer's context), a genuine signed link in its query.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from tests.support import CUSTOMER_ID

REPO = Path(__file__).resolve().parent.parent
EVENTS = REPO / "events"
CLAIM = "custom:paddle_customer_id"


def load_event(name: str) -> dict[str, Any]:
    """One of the repository's `events/*.json` files (the same ones `sam local invoke -e` uses)."""
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
    event = copy.deepcopy(load_event(name))
    if accept is not None:
        event["headers"]["accept"] = accept
    if body is None:
        event.pop("body", None)
        event["isBase64Encoded"] = False
    elif base64_body:
        event["body"], event["isBase64Encoded"] = base64.b64encode(body.encode()).decode(), True
    else:
        event["body"], event["isBase64Encoded"] = body, False
    if query is not None:
        event["rawQueryString"] = query
    return event


# --- Any method and path, by keyword (integration tier) ------------------------------------------------------------

TEMPLATES = (
    "/customers/{customer_id}/portal-sessions",
    "/customers/{customer_id}/portal",
    "/portal-sessions",
    "/portal",
)
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

V2Auth = Literal["iam", "jwt"] | None
RestAuth = Literal["iam", "cognito"] | None


def _template_of(path: str) -> tuple[str | None, dict[str, str] | None]:
    for template in TEMPLATES:
        pattern = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"
        if found := re.match(pattern, path):
            return template, (found.groupdict() or None)
    return None, None


def _raw(body: Any) -> bytes:
    """Bytes of a body given as bytes, text, or a value to send as JSON."""
    if isinstance(body, bytes):
        return body
    return (body if isinstance(body, str) else json.dumps(body)).encode()


def _body(body: Any, encode_base64: bool) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    if encode_base64:
        return base64.b64encode(_raw(body)).decode(), True
    return _raw(body).decode("utf-8", "surrogateescape"), False


def http_api(
    method: str,
    path: str,
    *,
    auth: V2Auth = "iam",
    token_claims: dict[str, Any] | None = None,
    query: str | dict[str, str] = "",
    body: Any = None,
    encode_base64: bool = False,
    accept: str = "application/json",
    path_parameters: dict[str, str] | None = None,
    route_key: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event for one of our routes (or `$default` for other paths)."""
    event = copy.deepcopy(load_event("http_api/post_portal_sessions_iam.json"))
    template, params = _template_of(path)
    event["routeKey"] = event["requestContext"]["routeKey"] = route_key or (
        f"{method} {template}" if template else "$default"
    )
    _fill_v2(event, method, path, auth, token_claims, query, body, encode_base64, accept)
    event.pop("pathParameters", None)
    if path_parameters is not None or params:
        event["pathParameters"] = path_parameters if path_parameters is not None else params
    return event


def function_url(
    method: str,
    path: str,
    *,
    auth: Literal["iam"] | None = "iam",
    query: str | dict[str, str] = "",
    body: Any = None,
    encode_base64: bool = False,
    accept: str = "application/json",
) -> dict[str, Any]:
    """A Lambda Function URL event (AuthType AWS_IAM, or NONE): routeKey `$default`, no path parameters."""
    event = copy.deepcopy(load_event("function_url/post_portal_sessions_iam.json"))
    _fill_v2(event, method, path, auth, None, query, body, encode_base64, accept)
    if auth is None:
        event["requestContext"]["accountId"] = "anonymous"
    return event


def _fill_v2(
    event: dict[str, Any],
    method: str,
    path: str,
    auth: V2Auth,
    token_claims: dict[str, Any] | None,
    query: str | dict[str, str],
    body: Any,
    encode_base64: bool,
    accept: str,
) -> None:
    context = event["requestContext"]
    event["rawPath"] = context["http"]["path"] = path
    context["http"]["method"] = method
    raw_query = query if isinstance(query, str) else urlencode(query)
    event["rawQueryString"] = raw_query
    event.pop("queryStringParameters", None)
    if raw_query:
        # What API Gateway shows beside rawQueryString (repeated names joined with commas).
        joined: dict[str, list[str]] = {}
        for part in raw_query.split("&"):
            name, _, value = part.partition("=")
            joined.setdefault(name, []).append(value)
        event["queryStringParameters"] = {name: ",".join(values) for name, values in joined.items()}
    event["headers"]["accept"] = accept
    event["body"], event["isBase64Encoded"] = _body(body, encode_base64)
    if event["body"] is None:
        del event["body"]
        event["headers"].pop("content-length", None)
        event["headers"].pop("content-type", None)
    else:
        event["headers"]["content-length"] = str(len(_raw(body)))
    if auth == "iam":
        pass  # the template file is IAM-signed
    elif auth == "jwt":
        context["authorizer"] = {"jwt": {"claims": claims() if token_claims is None else token_claims, "scopes": None}}
    else:
        context.pop("authorizer", None)


def rest_api(
    method: str,
    path: str,
    *,
    auth: RestAuth = "iam",
    token_claims: dict[str, Any] | None = None,
    query: dict[str, list[str]] | None = None,
    body: Any = None,
    encode_base64: bool = False,
    accept: str = "application/json",
) -> dict[str, Any]:
    """An API Gateway REST API proxy (payload 1.0) event, stage `prod`, IAM identity or Cognito claims."""
    event = copy.deepcopy(load_event("rest_api/post_portal_sessions_iam.json"))
    template, params = _template_of(path)
    event["resource"] = event["requestContext"]["resourcePath"] = template or "/{proxy+}"
    event["path"] = path
    event["requestContext"]["path"] = f"/prod{path}"
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["pathParameters"] = params if template else {"proxy": path.lstrip("/")}
    event["multiValueQueryStringParameters"] = query or None
    event["queryStringParameters"] = {name: values[-1] for name, values in query.items()} if query else None
    event["headers"]["Accept"] = accept
    event["multiValueHeaders"]["Accept"] = [accept]
    event["body"], event["isBase64Encoded"] = _body(body, encode_base64)
    identity = event["requestContext"]["identity"]
    if auth == "cognito":
        for name in ("accessKey", "accountId", "caller", "user", "userArn"):
            identity[name] = None
        event["requestContext"]["authorizer"] = {"claims": claims() if token_claims is None else token_claims}
    elif auth is None:
        for name in ("accessKey", "accountId", "caller", "user", "userArn"):
            identity[name] = None
        event["requestContext"].pop("authorizer", None)
    return event


# --- One event per (format, route), identities swapped in (security tier) ---------------------------------------------


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
ROUTES = ("iam_post", "iam_get", "jwt_post", "jwt_get", "link_mint", "jwt_mint", "link_follow")
# How each route authenticates its caller (the signed-link route: the link itself, not the caller).
ROUTE_AUTH = {
    "iam_post": "iam",
    "iam_get": "iam",
    "jwt_post": "jwt",
    "jwt_get": "jwt",
    "link_mint": "iam",
    "jwt_mint": "jwt",
    "link_follow": "link",
}
MINT_ROUTES = ("link_mint", "jwt_mint")  # answer 201 with a signed link; Paddle is called when it is followed


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


def _jwt_mint(fmt: str) -> dict[str, Any]:
    """`POST /portal-links` (a signed-in user's page asks for a short-lived link to its own portal)."""
    if fmt == "http_api":
        return load_event("http_api/post_portal_links_jwt.json")
    event = _retarget(route_event(fmt, "jwt_post"), "POST", "/portal-links", "/portal-links", None)
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
    if route == "jwt_mint":
        return _jwt_mint(fmt)
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
    if route.endswith("post") or route in MINT_ROUTES:
        return 201
    wants_json = {("http_api", "jwt_get"), ("rest_api", "jwt_get")}
    return 200 if (fmt, route) in wants_json else 302


def claims(customer_id: str | None = CUSTOMER_ID, claim: str = CLAIM) -> dict[str, Any]:
    """The Cognito ID token claims of the sample events, bound to `customer_id` under `claim` (None: claim absent)."""
    values = claims_with(...)
    if customer_id is not None:
        values[claim] = customer_id
    return values
