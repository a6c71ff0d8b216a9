"""Parser models: the events we accept and the inputs inside them. Each caller type has its own strict model."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayEventIdentity,
    APIGatewayEventRequestContext,
    APIGatewayProxyEventModel,
    APIGatewayProxyEventV2Model,
)
from aws_lambda_powertools.utilities.parser.models.apigwv2 import RequestContextV2, RequestContextV2Http
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from paddle_portal.links import Action
from paddle_portal.signed_links import DEFAULT_LIFETIME_SECONDS, MAX_LIFETIME_SECONDS, MIN_LIFETIME_SECONDS

MAX_SUBSCRIPTION_IDS = 25

# ASCII-only classes: `\d` would also accept other scripts' digits.
CustomerId = Annotated[str, StringConstraints(pattern=r"^ctm_[a-z0-9]{26}$")]
SubscriptionId = Annotated[str, StringConstraints(pattern=r"^sub_[a-z0-9]{26}$")]


def _unique(ids: list[str]) -> list[str]:
    if len(set(ids)) != len(ids):
        raise ValueError("subscription ids must be unique")
    return ids


SubscriptionIds = Annotated[
    list[SubscriptionId],
    Field(max_length=MAX_SUBSCRIPTION_IDS),
    AfterValidator(_unique),
]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CreateSessionBody(StrictModel):
    """POST body of the HTTP routes (Paddle's `customer-portal-session-create`)."""

    subscription_ids: SubscriptionIds = []


class PortalQuery(StrictModel):
    """Query of the GET routes."""

    action: Action = "overview"
    subscription_id: SubscriptionId | None = None


class CustomerPath(StrictModel):
    customer_id: CustomerId


CorrelationId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]
LinkLifetime = Annotated[int, Field(ge=MIN_LIFETIME_SECONDS, le=MAX_LIFETIME_SECONDS)]


class DirectInvocation(StrictModel):
    """Payload of a direct `lambda:InvokeFunction` by another function (IAM-trusted)."""

    operation: Literal["create_portal_session"] = "create_portal_session"
    customer_id: CustomerId
    subscription_ids: SubscriptionIds = []
    correlation_id: CorrelationId | None = None


class MintLinkBody(StrictModel):
    """POST body of `/customers/{customer_id}/portal-links`: what the signed link will open, and for how long."""

    action: Action = "overview"
    subscription_id: SubscriptionId | None = None
    expires_in: LinkLifetime = DEFAULT_LIFETIME_SECONDS


class DirectMintLink(MintLinkBody):
    """Direct invocation that mints a signed link: `{"operation": "create_portal_link", "customer_id": ...}`."""

    operation: Literal["create_portal_link"]
    customer_id: CustomerId
    correlation_id: CorrelationId | None = None


# --- HTTP events. Powertools' models keep the authorizer context (its envelopes would drop it). Fields the function
# never reads are relaxed to optional, so a hand-written or older-shaped event is not refused for bookkeeping it lacks;
# everything identity and routing depend on keeps Powertools' types.


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
