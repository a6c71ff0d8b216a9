"""The rules every caller's input meets, whichever adapter reads it: Paddle ids, subscription lists, a signed link's
page and lifetime, and `validate`, the one way a model is applied. A failure is one `InvalidRequestError` whose field
errors name the field and never echo the value.

The models themselves live with their adapter: HTTP bodies and queries in `http_api/bodies.py`, direct payloads in
`direct.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeGuard, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from paddle_portal.errors import FieldError, InvalidRequestError
from paddle_portal.paddle.ids import CUSTOMER_ID, CUSTOMER_ID_PATTERN, SUBSCRIPTION_ID_PATTERN
from paddle_portal.paddle.ids import Action as Action  # the adapters' name for it: they do not import the client
from paddle_portal.signed_links import DEFAULT_LIFETIME_SECONDS, MAX_LIFETIME_SECONDS, MIN_LIFETIME_SECONDS

MAX_SUBSCRIPTION_IDS = 25

CustomerId = Annotated[str, StringConstraints(pattern=CUSTOMER_ID_PATTERN)]
SubscriptionId = Annotated[str, StringConstraints(pattern=SUBSCRIPTION_ID_PATTERN)]


def is_customer_id(value: object) -> TypeGuard[str]:
    """A Paddle customer id (`ctm_` and 26 lower-case letters or digits)."""
    return isinstance(value, str) and CUSTOMER_ID.fullmatch(value) is not None


def _unique(ids: list[str]) -> list[str]:
    if len(set(ids)) != len(ids):
        raise ValueError("subscription ids must be unique")
    return ids


SubscriptionIds = Annotated[
    list[SubscriptionId],
    Field(max_length=MAX_SUBSCRIPTION_IDS),
    AfterValidator(_unique),
]
LinkLifetime = Annotated[int, Field(ge=MIN_LIFETIME_SECONDS, le=MAX_LIFETIME_SECONDS)]


class StrictModel(BaseModel):
    # defer_build: a model's validator is built when it first validates, so a cold start builds only the models its
    # route needs (the direct-invocation and signed-link ones are rare).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class LinkFields(StrictModel):
    """What a signed link will open, and for how many seconds it may be followed (a backend's mint route and a direct
    invoker's `create_portal_link`)."""

    action: Action = "overview"
    subscription_id: SubscriptionId | None = None
    expires_in: LinkLifetime = DEFAULT_LIFETIME_SECONDS


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
