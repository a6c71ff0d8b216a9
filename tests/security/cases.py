"""Building blocks of the security tier: events rewritten per case from the repository's own `events/` files
(identity, route, format), and a Paddle stand-in handler that answers for whichever customer it is asked about,
so a test sees *which* customer the function asked for instead of a 500 from an unexpected path."""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any

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
ROUTES = ("iam_post", "iam_get", "jwt_post", "jwt_get")


def route_event(fmt: str, route: str) -> dict[str, Any]:
    """A fresh event of format `fmt` for `route`, as close to an events/ file as the pair allows."""
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
    if route.endswith("post"):
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
