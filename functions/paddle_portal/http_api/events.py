"""One `HttpRequest` for every HTTP event shape, and the HTTP API 2.0 / Function URL reader.

A reader turns an event into an `HttpRequest` that names its method, path and the gateway's route key; `routes.py`
finds the route and its path parameters, the same way for every shape. REST API 1.0 events have their own reader
(rest_events.py), imported only when the first one arrives."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from aws_lambda_powertools.utilities.parser.models.apigwv2 import RequestContextV2, RequestContextV2Http
from pydantic import Field

from paddle_portal.errors import InvalidRequestError, RequestTooLargeError

MAX_BODY_BYTES = 16 * 1024
_MAX_BASE64_CHARS = (MAX_BODY_BYTES + 2) // 3 * 4


@dataclass(frozen=True)
class IamIdentity:
    arn: str


@dataclass(frozen=True)
class JwtIdentity:
    claims: dict[str, Any]


Identity = IamIdentity | JwtIdentity | None


@dataclass(frozen=True)
class HttpRequest:
    method: str
    route_key: str  # the gateway's route template ("/customers/{customer_id}/portal"), "" when it names none
    path: str  # decoded, without the stage
    path_params: dict[str, str]  # the gateway's; routes.py replaces them with its own match
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    raw_body: str | None
    body_is_base64: bool
    identity: Identity
    request_id: str
    # The API's own base URL as API Gateway / Lambda name it (never from the client's Host header); None on a
    # custom domain, whose base path mapping the event does not reveal.
    public_url: str | None = None
    cookies: tuple[str, ...] = ()  # payload 2.0 moves them out of the headers; a REST API's stay in `cookie`

    def cookie(self, name: str) -> str | None:
        """The value of the request's cookie `name`, if it sent one."""
        for pair in self.cookies or tuple(self.headers.get("cookie", "").split(";")):
            key, _, value = pair.strip().partition("=")
            if key == name:
                return value
        return None

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


def from_v2(event: dict[str, Any]) -> HttpRequest:
    """An HTTP API (payload 2.0) or Function URL event, validated with the parser models. Raises `ValidationError`."""
    parsed = HttpApiEvent.model_validate(event)
    authorizer = parsed.requestContext.authorizer
    identity: Identity = None
    if authorizer is not None and authorizer.jwt is not None:
        identity = JwtIdentity(dict(authorizer.jwt.claims))
    elif authorizer is not None and authorizer.iam is not None:
        iam = authorizer.iam
        principal = iam.userArn or iam.callerId or iam.accessKey
        identity = IamIdentity(principal) if principal else None
    method = parsed.requestContext.http.method
    route_key = parsed.routeKey.partition(" ")[2]
    request = request_from(parsed, method, route_key, _v2_path(parsed), _v2_query(parsed), parsed.headers, identity)
    return replace(request, cookies=tuple(parsed.cookies or ())) if parsed.cookies else request


def _v2_query(event: HttpApiEvent) -> list[tuple[str, str]]:
    """The raw query keeps repeated parameters apart (API Gateway comma-joins them in `queryStringParameters`); a
    hand-written event may carry only the parsed form."""
    if event.rawQueryString:
        return parse_qsl(event.rawQueryString, keep_blank_values=True)
    return list((event.queryStringParameters or {}).items())


def request_from(
    event: Any,
    method: str,
    route_key: str,
    path: str,
    query: list[tuple[str, str]],
    headers: dict[str, str] | None,
    identity: Identity,
) -> HttpRequest:
    """The parts every event shape carries alike (HTTP API, Function URL, REST API)."""
    context = event.requestContext
    return HttpRequest(
        method=method,
        route_key=route_key,
        path=path,
        path_params=dict(event.pathParameters or {}),
        query=query,
        headers={name.lower(): value for name, value in (headers or {}).items()},
        raw_body=event.body if isinstance(event.body, str) else None,
        body_is_base64=bool(event.isBase64Encoded),
        identity=identity,
        request_id=context.requestId,
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
