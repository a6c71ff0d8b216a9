"""Variations of the repository's `events/` files: the same realistic shapes, with the caller, route, query and
body changed. Each builder starts from a real event file so the result stays what AWS delivers."""

from __future__ import annotations

import base64
import copy
import json
import re
from typing import Any, Literal
from urllib.parse import urlencode

from tests.conftest import load_event
from tests.support import CUSTOMER_ID

CLAIM = "custom:paddle_customer_id"
TEMPLATES = (
    "/customers/{customer_id}/portal-sessions",
    "/customers/{customer_id}/portal",
    "/portal-sessions",
    "/portal",
)
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

V2Auth = Literal["iam", "jwt"] | None
RestAuth = Literal["iam", "cognito"] | None


def claims(customer_id: str | None = CUSTOMER_ID, claim: str = CLAIM) -> dict[str, Any]:
    """The Cognito ID token claims of the sample events, bound to `customer_id` (None: claim absent)."""
    values = dict(load_event("http_api/get_portal_jwt.json")["requestContext"]["authorizer"]["jwt"]["claims"])
    values.pop(CLAIM)
    if customer_id is not None:
        values[claim] = customer_id
    return values


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
