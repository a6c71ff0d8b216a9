"""Turn the three HTTP event shapes (HTTP API 2.0, REST API 1.0, Function URL) into one `HttpRequest`.

REST API events are read by rest_events.py, imported when the first one arrives: this stack's API is an HTTP API,
and Powertools' REST models cost a twentieth of a cold start to build (bench/README.md)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl, unquote

from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from aws_lambda_powertools.utilities.parser.models.apigwv2 import RequestContextV2, RequestContextV2Http
from pydantic import Field, ValidationError

from paddle_portal.errors import (
    InvalidRequestError,
    RequestTooLargeError,
    RouteNotFoundError,
)

MAX_BODY_BYTES = 16 * 1024
_MAX_BASE64_CHARS = (MAX_BODY_BYTES + 2) // 3 * 4


class Auth(Enum):
    IAM = "iam"  # SigV4, checked by API Gateway; the function requires the IAM identity it hands over
    JWT = "jwt"  # a verified token; the customer is the token's claim
    LINK = "link"  # no gateway auth: the signed link itself is the credential (signed_links.verify)


class Operation(Enum):
    """What a route does (app.py dispatches on it)."""

    SESSION = "session"  # POST: create a Paddle session, 201 JSON
    PORTAL = "portal"  # GET: create a session, 302 to the link (200 JSON on request)
    MINT_LINK = "mint_link"  # POST: a signed, expiring link (for an email, or for a page to navigate to), 201 JSON
    FOLLOW_LINK = "follow_link"  # GET: verify a signed link, then as PORTAL


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    auth: Auth
    operation: Operation

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template) + "$")


ROUTES = (
    Route("POST", "/customers/{customer_id}/portal-sessions", Auth.IAM, Operation.SESSION),
    Route("GET", "/customers/{customer_id}/portal", Auth.IAM, Operation.PORTAL),
    Route("POST", "/portal-sessions", Auth.JWT, Operation.SESSION),
    Route("GET", "/portal", Auth.JWT, Operation.PORTAL),
    Route("POST", "/customers/{customer_id}/portal-links", Auth.IAM, Operation.MINT_LINK),
    Route("POST", "/portal-links", Auth.JWT, Operation.MINT_LINK),  # a page fetches it, then navigates to the link
    Route("GET", "/links/portal", Auth.LINK, Operation.FOLLOW_LINK),
)
_BY_KEY = {(route.method, route.template): route for route in ROUTES}


@dataclass(frozen=True)
class IamIdentity:
    arn: str


@dataclass(frozen=True)
class JwtIdentity:
    claims: dict[str, Any]


Identity = IamIdentity | JwtIdentity | None


@dataclass(frozen=True)
class HttpRequest:
    route: Route
    path_params: dict[str, str]
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    raw_body: str | None
    body_is_base64: bool
    identity: Identity
    request_id: str
    stage: str = field(default="$default")
    # The API's own base URL as API Gateway / Lambda name it (never from the client's Host header); None on a
    # custom domain, whose base path mapping the event does not reveal.
    public_url: str | None = None

    def body(self) -> bytes:
        """The decoded body, at most `MAX_BODY_BYTES` (413 beyond), empty when absent."""
        if not self.raw_body:
            return b""
        if self.body_is_base64:
            if len(self.raw_body) > _MAX_BASE64_CHARS:
                raise RequestTooLargeError(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
            try:
                data = base64.b64decode(self.raw_body, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidRequestError("The request body is not valid base64.", code="invalid_json") from None
        else:
            data = self.raw_body.encode("utf-8", "surrogatepass")
        if len(data) > MAX_BODY_BYTES:
            raise RequestTooLargeError(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        return data

    def wants_json(self) -> bool:
        return self._accepts("application/json")

    def wants_html(self) -> bool:
        return self._accepts("text/html") and not self.wants_json()

    def _accepts(self, media_type: str) -> bool:
        accept = self.headers.get("accept", "")
        for part in accept.split(","):
            media, _, params = part.strip().partition(";")
            if media.strip().lower() == media_type and _quality(params) > 0:
                return True
        return False


def _quality(params: str) -> float:
    """The `q` weight of one Accept entry (RFC 9110 §12.4.2): 1 when absent; `q=0`, `q=0.0`, `q=0.000` refuse."""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0  # unreadable weight: do not take it as a request for JSON
    return 1.0


# --- The event shapes. Powertools' models keep the authorizer context (its envelopes would drop it). Fields the
# function never reads are relaxed to optional, so a hand-written or older-shaped event is not refused for bookkeeping
# it lacks; everything identity and routing depend on keeps Powertools' types.


class HttpApiHttp(RequestContextV2Http):
    path: str = ""
    protocol: str = ""
    sourceIp: str = ""
    userAgent: str = ""


class HttpApiRequestContext(RequestContextV2):
    requestId: str = ""  # answers fall back to the invocation's id
    accountId: str = ""
    apiId: str = ""
    domainName: str = ""
    domainPrefix: str = ""
    routeKey: str = "$default"
    stage: str = "$default"
    time: str = ""
    timeEpoch: datetime | None = None  # type: ignore[assignment]
    http: HttpApiHttp


class HttpApiEvent(APIGatewayProxyEventV2Model):
    """API Gateway HTTP API (payload 2.0) and Lambda Function URL events."""

    version: str = "2.0"
    routeKey: str = "$default"
    rawQueryString: str = ""
    headers: dict[str, str] = Field(default_factory=dict)  # absent when a client sends none
    requestContext: HttpApiRequestContext


def parse_http_event(event: dict[str, Any]) -> HttpRequest:
    """Validate an API event with the parser models and find its route. Raises `PortalError`s."""
    try:
        if "httpMethod" in event:
            from paddle_portal import rest_events

            return rest_events.from_rest(rest_events.RestApiEvent.model_validate(event))
        return _from_v2(HttpApiEvent.model_validate(event))
    except ValidationError:
        raise InvalidRequestError("The event is not a valid API Gateway or Function URL event.") from None


def _from_v2(event: HttpApiEvent) -> HttpRequest:
    context = event.requestContext
    method = context.http.method
    route, params = match_route(method, event.routeKey.partition(" ")[2], event.pathParameters, _v2_path(event))
    authorizer = context.authorizer
    identity: Identity = None
    if authorizer is not None and authorizer.jwt is not None:
        identity = JwtIdentity(dict(authorizer.jwt.claims))
    elif authorizer is not None and authorizer.iam is not None:
        iam = authorizer.iam
        principal = iam.userArn or iam.callerId or iam.accessKey
        identity = IamIdentity(principal) if principal else None
    return build_request(event, route, params, _v2_query(event), event.headers, identity)


def _v2_query(event: HttpApiEvent) -> list[tuple[str, str]]:
    """The raw query keeps repeated parameters apart (API Gateway comma-joins them in `queryStringParameters`); a
    hand-written event may carry only the parsed form."""
    if event.rawQueryString:
        return parse_qsl(event.rawQueryString, keep_blank_values=True)
    return list((event.queryStringParameters or {}).items())


def build_request(
    event: Any,
    route: Route,
    params: dict[str, str],
    query: list[tuple[str, str]],
    headers: dict[str, str] | None,
    identity: Identity,
) -> HttpRequest:
    """The parts every event shape carries alike (HTTP API, Function URL, REST API)."""
    context = event.requestContext
    return HttpRequest(
        route=route,
        path_params=params,
        query=query,
        headers={name.lower(): value for name, value in (headers or {}).items()},
        raw_body=event.body if isinstance(event.body, str) else None,
        body_is_base64=bool(event.isBase64Encoded),
        identity=identity,
        request_id=context.requestId,
        stage=context.stage,
        public_url=public_url(context.domainName, context.stage),
    )


def public_url(domain: str | None, stage: str) -> str | None:
    if not domain or not domain.endswith((".amazonaws.com", ".on.aws")) or not re.fullmatch(r"[a-z0-9.-]+", domain):
        return None
    return f"https://{domain}" + ("" if stage == "$default" else f"/{stage}")


def _v2_path(event: HttpApiEvent) -> str:
    path = event.rawPath
    stage = event.requestContext.stage
    if stage != "$default" and path.startswith(f"/{stage}/"):
        path = path[len(stage) + 1 :]
    return unquote(path)


def match_route(
    method: str, template: str, path_params: dict[str, str] | None, path: str
) -> tuple[Route, dict[str, str]]:
    """Route by the gateway's own route template when it names one of ours, else by the path (Function URL,
    catch-all routes)."""
    route = _BY_KEY.get((method, template))
    if route is not None:
        return route, dict(path_params or {})
    for route in ROUTES:
        if route.method == method and (found := route.pattern.match(path)):
            return route, found.groupdict()
    raise RouteNotFoundError(f"No route for {method} on this path.")
