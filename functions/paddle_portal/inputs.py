"""What the caller asked for, validated: path, body and query of an HTTP request, or a direct payload."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from paddle_portal.errors import FieldError, InvalidRequestError
from paddle_portal.http_events import Auth, HttpRequest, Operation
from paddle_portal.models import BrowserLinkBody, CreateSessionBody, CustomerPath, MintLinkBody, PortalQuery
from paddle_portal.paddle_ids import Action

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class PortalRequest:
    """A portal session to open: for whom, with which subscriptions' deep links, and which link to redirect to."""

    customer_id: str
    subscription_ids: tuple[str, ...]
    action: Action = "overview"
    subscription_id: str | None = None


def validate(model: type[M], data: object) -> M:
    """Validate with a strict model; field errors name the field, never echo the value."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequestError(
            "Invalid request: see errors for the fields.",
            errors=tuple(FieldError(_field_name(err["loc"]), _message(err)) for err in exc.errors()),
        ) from None


def read_portal_choice(request: HttpRequest) -> PortalRequest:
    """What a session request asks to open (subscriptions, action), validated; the customer is left empty for the
    caller to bind, from authorization's answer (a verified-email lookup happens only once the rest of the request is
    known to be valid). JWT routes never read a customer from the request."""
    if request.route.operation is Operation.SESSION:
        _no_query(request)
        body = validate(CreateSessionBody, _json_object(request.body()))
        return PortalRequest("", tuple(body.subscription_ids))
    query = validate(PortalQuery, _single_values(request.query))
    return portal_link_request("", query.action, query.subscription_id)


def path_customer_id(request: HttpRequest) -> str:
    return validate(CustomerPath, request.path_params).customer_id


def read_link_request(request: HttpRequest) -> MintLinkBody:
    """The body of a mint-link request (what the link will open, for how long). A signed-in user's link (JWT route)
    is short-lived; a backend's may be emailed and last days."""
    _no_query(request)
    model = BrowserLinkBody if request.route.auth is Auth.JWT else MintLinkBody
    body = validate(model, _json_object(request.body()))
    require_subscription_for(body.action, body.subscription_id)
    return body


def require_subscription_for(action: Action, subscription_id: str | None) -> None:
    """A subscription's deep link needs that subscription's id; the overview needs none."""
    if action != "overview" and subscription_id is None:
        raise InvalidRequestError(
            "Invalid request: see errors for the fields.",
            errors=(FieldError("subscription_id", f"is required when action is {action}"),),
        )


def portal_link_request(customer_id: str, action: Action, subscription_id: str | None) -> PortalRequest:
    """Open the overview, or a subscription's deep link."""
    require_subscription_for(action, subscription_id)
    subs = (subscription_id,) if subscription_id else ()
    return PortalRequest(customer_id, subs, action, subscription_id)


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidRequestError("The request body is not valid UTF-8 JSON.", code="invalid_json") from None
    if not isinstance(parsed, dict):
        raise InvalidRequestError("The request body must be a JSON object.", code="invalid_json")
    return parsed


def _no_query(request: HttpRequest) -> None:
    if request.query:
        names = sorted({name for name, _ in request.query})
        raise InvalidRequestError(
            "Invalid request: see errors for the fields.",
            errors=tuple(FieldError(name[:100], "is not a parameter of this route") for name in names),
        )


def _single_values(query: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in query:
        if name in values:
            repeated.add(name)
        values[name] = value
    if repeated:
        raise InvalidRequestError(
            "Invalid request: see errors for the fields.",
            errors=tuple(FieldError(name[:100], "is given more than once") for name in sorted(repeated)),
        )
    return values


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
