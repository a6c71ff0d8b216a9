"""API Gateway HTTP API (payload format 2.0), played locally: HTTP request -> event dict -> handler -> HTTP answer.

Pure functions, no sockets: `local.server` does the I/O. The events are shaped like the real ones so the real handler
runs unchanged:

- Each route's authorizer runs first, as deployed (`local.authorizers`): JWT routes verify the bearer token against
  the user pool's keys, issuer and audience (401 {"message":"Unauthorized"} otherwise); IAM routes recompute the SigV4
  signature with the local credentials (403 with API Gateway's message otherwise). A refused request never reaches
  the handler. Without a JWT authorizer the JWT routes do not exist (404), as in the template without `JwtIssuer`.
  The signed-link route has no authorizer: nothing becomes an identity there.
- CORS as the template configures it (`Cors`, given the `CorsAllowedOrigins` of this run): the gateway answers
  preflights itself, for allowed origins only, and puts its own CORS headers on every answer to an allowed origin
  (the function's are dropped, as API Gateway ignores an integration's). No origins: no CORS at all (OPTIONS → 404).
- Every non-empty body arrives base64-encoded with `isBase64Encoded: true` (what API Gateway does for binary
  media types), the harder of the two cases for the handler.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote

from local.authorizers import Authorizer, IamAuthorizer, JwtAuthorizer, Refusal
from local.throttle import RouteThrottle

ACCOUNT_ID = "123456789012"
API_ID = "local"
TIMEOUT_SECONDS = 15.0  # the template's function timeout

log = logging.getLogger(__name__)

Auth = Literal["AWS_IAM", "JWT", "NONE"]  # NONE: no authorizer on the route (the signed-link route)
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # template, e.g. /customers/{customer_id}/portal
    auth: Auth

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        """Path parameters when `method raw_path` hits this route, else None (a parameter is one non-empty segment)."""
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        found = re.fullmatch(pattern, raw_path)
        if method != self.method or found is None:
            return None
        return {name: unquote(value) for name, value in found.groupdict().items()}


@functools.cache
def routes() -> tuple[Route, ...]:
    """The function's route table, with the authorizer API Gateway runs for each (template.yaml declares the same
    routes and authorizers: tests/infrastructure/test_template.py). The signed-link route has none, as deployed: the
    signed link in the query is the credential; any Authorization header is ignored.

    Read when first needed, not at import: the function's modules configure Powertools from the environment when
    they are imported, and the local run sets that environment first."""
    from paddle_portal.http_api.auth import Auth as FunctionAuth
    from paddle_portal.http_api.routes import ROUTES

    authorizer: dict[FunctionAuth, Auth] = {
        FunctionAuth.IAM: "AWS_IAM",
        FunctionAuth.JWT: "JWT",
        FunctionAuth.LINK: "NONE",
    }
    return tuple(Route(route.method, route.template, authorizer[route.auth]) for route in ROUTES)


def match_route(
    method: str, raw_path: str, among: tuple[Route, ...] | None = None
) -> tuple[Route, dict[str, str]] | None:
    for route in routes() if among is None else among:
        params = route.match(method, raw_path)
        if params is not None:
            return route, params
    return None


@dataclass(frozen=True)
class Authorizers:
    """The API's authorizers: IAM always (it is built into API Gateway), JWT when an issuer is configured."""

    iam: IamAuthorizer
    jwt: JwtAuthorizer | None = None

    def routes(self) -> tuple[Route, ...]:
        return tuple(route for route in routes() if route.auth != "JWT" or self.jwt is not None)

    def check(self, route: Route, request: HttpRequest) -> Authorizer | Refusal | None:
        """The event's `requestContext.authorizer` (None on a route without one), or why API Gateway refuses."""
        if route.auth == "AWS_IAM":
            return self.iam.check(request.method, request.target, request.headers, request.body)
        if route.auth == "JWT" and self.jwt is not None:
            return self.jwt.check(_header(request, "authorization"))
        return None


@dataclass(frozen=True)
class Cors:
    """The HTTP API's CORS configuration (template.yaml: `x-amazon-apigateway-cors`), applied as API Gateway does:

    - a preflight (OPTIONS with `Origin` and `Access-Control-Request-Method`) is answered by the gateway, whatever the
      routes: 204 with the configured headers for an allowed origin, 204 without any for another (the browser then
      refuses the call);
    - any other answer to a request from an allowed origin gets `Access-Control-Allow-Origin`; the integration's own
      `Access-Control-*` headers are dropped;
    - `*` allows every origin (answered as `*`), `https://*` / `http://*` every origin of that scheme.
    Methods, headers and max age are the template's; only the origins are a parameter (`CorsAllowedOrigins`)."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ("GET", "POST")
    allow_headers: tuple[str, ...] = ("authorization", "content-type")
    max_age: int = 600

    @classmethod
    def from_setting(cls, value: str) -> Cors | None:
        """`CorsAllowedOrigins` as the template takes it: comma-separated; empty means no CORS configuration."""
        origins = tuple(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())
        return cls(origins) if origins else None

    def allows(self, origin: str | None) -> bool:
        if not origin:
            return False
        return any(
            allowed in ("*", origin) or (allowed.endswith("://*") and origin.startswith(allowed[:-1]))
            for allowed in self.allow_origins
        )

    def preflight(self, request: HttpRequest) -> HttpResponse | None:
        """The gateway's own answer to a preflight; None when `request` is not one."""
        origin = _header(request, "origin")
        if request.method != "OPTIONS" or not origin or not _header(request, "access-control-request-method"):
            return None
        if not self.allows(origin):
            return HttpResponse(204, [], b"")
        headers = [
            *self._origin_headers(origin),
            ("Access-Control-Allow-Methods", ",".join(self.allow_methods)),
            ("Access-Control-Allow-Headers", ",".join(self.allow_headers)),
            ("Access-Control-Max-Age", str(self.max_age)),
        ]
        return HttpResponse(204, headers, b"")

    def apply(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        headers = [(name, value) for name, value in response.headers if not name.lower().startswith("access-control-")]
        origin = _header(request, "origin")
        if self.allows(origin):
            headers += self._origin_headers(str(origin))
        return HttpResponse(response.status, headers, response.body)

    def _origin_headers(self, origin: str) -> list[tuple[str, str]]:
        return [("Access-Control-Allow-Origin", "*" if "*" in self.allow_origins else origin), ("Vary", "Origin")]


def _header(request: HttpRequest, name: str) -> str | None:
    return next((value for key, value in request.headers if key.lower() == name), None)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # path and query as received, e.g. /portal?action=overview
    headers: list[tuple[str, str]]  # as received, duplicates kept
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def build_event(
    request: HttpRequest,
    route: Route,
    path_parameters: dict[str, str],
    *,
    authorizer: Authorizer | None = None,
    request_id: str = "",
    now: float | None = None,
) -> dict[str, Any]:
    """The API Gateway v2 event for `request` on `route`, with the authorizer's context (already checked)."""
    now = time.time() if now is None else now
    raw_path, _, raw_query = request.target.partition("?")
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        name = name.lower()
        if name == "cookie":  # payload 2.0 moves cookies out of the headers
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        else:
            headers[name] = f"{headers[name]},{value}" if name in headers else value
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    headers["x-amzn-trace-id"] = f"Root=1-{int(now):08x}-{secrets.token_hex(12)}"
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    request_id = request_id or base64.b64encode(secrets.token_bytes(12)).decode()
    host = headers.get("host", "127.0.0.1")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": raw_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route.key,
            "stage": "$default",
            "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    if request.body:
        event["body"] = base64.b64encode(request.body).decode()
        event["isBase64Encoded"] = True
    return event


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools use."""

    function_name: str = "paddle-portal-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: str = "256"  # a string in the real runtime too (read from the environment)
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/paddle-portal-local"
    log_stream_name: str = "local"
    timeout_seconds: float = TIMEOUT_SECONDS
    _deadline: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def to_http_response(result: Any) -> HttpResponse:
    """Turn the handler's return value into the HTTP answer, as API Gateway does for payload format 2.0."""
    if not (isinstance(result, dict) and "statusCode" in result):
        # 2.0 also accepts any JSON value without statusCode and answers 200 with it.
        return HttpResponse(200, [("Content-Type", "application/json")], json.dumps(result).encode())
    status = int(result["statusCode"])
    headers = [(str(name), str(value)) for name, value in (result.get("headers") or {}).items()]
    headers += [("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or []]
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        data = base64.b64decode(body)
    else:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return HttpResponse(status, headers, data)


def invoke(
    handler: Handler,
    request: HttpRequest,
    authorizers: Authorizers,
    *,
    cors: Cors | None = None,
    context: Any = None,
    throttle: RouteThrottle | None = None,
) -> HttpResponse:
    """One request through CORS, the route table, the route's throttle and authorizer and the handler, as API Gateway
    runs it."""
    request_id = base64.b64encode(secrets.token_bytes(12)).decode()  # API Gateway style, e.g. "JKJaXmPLvHcESHA="
    if cors is None:
        response = _route(handler, request, authorizers, request_id, context, throttle)
    else:
        response = cors.preflight(request) or cors.apply(
            request, _route(handler, request, authorizers, request_id, context, throttle)
        )
    response.headers.append(("Apigw-Requestid", request_id))
    return response


def _route(
    handler: Handler,
    request: HttpRequest,
    authorizers: Authorizers,
    request_id: str,
    context: Any,
    throttle: RouteThrottle | None = None,
) -> HttpResponse:
    found = match_route(request.method, request.target.partition("?")[0], authorizers.routes())
    if found is not None and throttle is not None and not throttle.admit(found[0].key):
        return _message(429, "Too Many Requests")  # the route's budget: before any authorizer or the function
    authorizer = None if found is None else authorizers.check(found[0], request)
    if found is None:
        return _message(404, "Not Found")
    if isinstance(authorizer, Refusal):
        return HttpResponse(authorizer.status, [("Content-Type", "application/json")], authorizer.body())
    event = build_event(request, *found, authorizer=authorizer, request_id=request_id)
    try:
        return to_http_response(handler(event, context if context is not None else LambdaContext()))
    except Exception:
        # A crashed handler or a malformed answer: API Gateway answers a bare 500; the traceback goes to the log.
        log.exception("handler failed on %s", event["routeKey"])
        return _message(500, "Internal Server Error")


def _message(status: int, message: str) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode())
