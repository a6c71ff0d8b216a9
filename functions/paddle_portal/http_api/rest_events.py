"""API Gateway REST API (payload 1.0) events, for deployments that put a REST API in front of the function.

Imported by routes.parse_http_event when the first such event arrives, so an HTTP API function never builds
Powertools' REST models (bench/README.md: a twentieth of a cold start).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayEventIdentity,
    APIGatewayEventRequestContext,
    APIGatewayProxyEventModel,
)

from paddle_portal.http_api.events import HttpRequest, IamIdentity, Identity, JwtIdentity, request_from


class RestIdentity(APIGatewayEventIdentity):
    sourceIp: str | None = None  # type: ignore[assignment]  # the console's test button sends none


class RestRequestContext(APIGatewayEventRequestContext):
    requestId: str = ""  # answers fall back to the invocation's id
    accountId: str = ""
    apiId: str = ""
    stage: str = ""
    protocol: str = ""
    identity: RestIdentity = RestIdentity()
    requestTime: str = ""
    requestTimeEpoch: datetime | None = None  # type: ignore[assignment]
    resourcePath: str = ""
    httpMethod: str = ""  # type: ignore[assignment]  # the event's own httpMethod is the one routed on
    path: str = ""


class RestApiEvent(APIGatewayProxyEventModel):
    """API Gateway REST API proxy (payload 1.0) events."""

    headers: dict[str, str] | None = None  # type: ignore[assignment]  # REST sends null for no headers
    multiValueHeaders: dict[str, list[str]] | None = None  # type: ignore[assignment]
    requestContext: RestRequestContext


def from_rest(event: dict[str, Any]) -> HttpRequest:
    """A REST API (payload 1.0) proxy event, validated with the parser models. Raises `ValidationError`."""
    parsed = RestApiEvent.model_validate(event)
    context = parsed.requestContext
    identity: Identity = None
    claims = context.authorizer.claims if context.authorizer is not None else None
    if claims:
        identity = JwtIdentity(dict(claims))
    else:
        principal = context.identity.userArn or context.identity.caller or context.identity.accessKey
        identity = IamIdentity(principal) if principal else None
    query: list[tuple[str, str]] = []
    if parsed.multiValueQueryStringParameters:
        query = [(k, v) for k, values in parsed.multiValueQueryStringParameters.items() for v in values]
    elif parsed.queryStringParameters:
        query = list(parsed.queryStringParameters.items())
    return request_from(parsed, parsed.httpMethod, parsed.resource, parsed.path, query, parsed.headers, identity)
