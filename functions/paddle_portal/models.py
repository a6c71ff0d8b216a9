"""Strict models of what callers send (HTTP bodies and queries, direct payloads; each caller type has its own), and
`validate`, the one way they are applied: a failure is one `InvalidRequestError` whose field errors name the field
and never echo the value."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    StringConstraints,
    Tag,
    ValidationError,
)

from paddle_portal.errors import FieldError, InvalidRequestError
from paddle_portal.paddle_ids import CUSTOMER_ID_PATTERN, SUBSCRIPTION_ID_PATTERN, Action
from paddle_portal.signed_links import DEFAULT_LIFETIME_SECONDS, MAX_LIFETIME_SECONDS, MIN_LIFETIME_SECONDS

MAX_SUBSCRIPTION_IDS = 25

CustomerId = Annotated[str, StringConstraints(pattern=CUSTOMER_ID_PATTERN)]
SubscriptionId = Annotated[str, StringConstraints(pattern=SUBSCRIPTION_ID_PATTERN)]


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
    # defer_build: a model's validator is built when it first validates, so a cold start builds only the models its
    # route needs (the direct-invocation and signed-link ones are rare).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


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
# A signed-in user's page mints a link and follows it at once: it need not outlive the click by much, and a link
# that leaks (history, a shared screen) must not stay a credential for long.
BROWSER_LINK_DEFAULT_SECONDS = 60
BROWSER_LINK_MAX_SECONDS = 300
BrowserLinkLifetime = Annotated[int, Field(ge=MIN_LIFETIME_SECONDS, le=BROWSER_LINK_MAX_SECONDS)]


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


class BrowserLinkBody(MintLinkBody):
    """POST body of `/portal-links` (JWT): as the backends' mint route, with a short lifetime (default 60 s, at most
    5 minutes), for the token's own customer."""

    expires_in: BrowserLinkLifetime = BROWSER_LINK_DEFAULT_SECONDS


class DirectMintLink(MintLinkBody):
    """Direct invocation that mints a signed link: `{"operation": "create_portal_link", "customer_id": ...}`."""

    operation: Literal["create_portal_link"]
    customer_id: CustomerId
    correlation_id: CorrelationId | None = None


def _operation_of(payload: object) -> str:
    """The payload's `operation`; a payload without one (or with an unknown one, which its model then refuses)
    opens a portal session, the first payload this function took."""
    if isinstance(payload, dict) and payload.get("operation") == "create_portal_link":
        return "create_portal_link"
    return "create_portal_session"


class DirectPayload(RootModel[DirectInvocation | DirectMintLink]):
    """Every direct payload, one model: the `operation` field picks the member."""

    model_config = ConfigDict(defer_build=True)
    root: Annotated[
        Annotated[DirectInvocation, Tag("create_portal_session")]
        | Annotated[DirectMintLink, Tag("create_portal_link")],
        Discriminator(_operation_of),
    ]


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: object, *, tagged: bool = False) -> M:
    """`model.model_validate(data)`, or the caller's field errors. `tagged`: the model is a discriminated union,
    whose errors' locations start with the member's tag (not a field of the caller's)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequestError(
            "Invalid request: see errors for the fields.",
            errors=tuple(FieldError(_field_name(err["loc"][tagged:]), _message(err)) for err in exc.errors()),
        ) from None


def _field_name(loc: tuple[int | str, ...]) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name[:100] or "body"


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "is not a known field"
    if err["type"] == "literal_error":
        return str(err["msg"]).replace("Input should be", "must be")
    return str(err["msg"]).removeprefix("Value error, ")
