"""What an HTTP request asks for, read strictly from its path, query and body into the use cases' records."""

from __future__ import annotations

import json
from typing import Any

from paddle_portal.errors import FieldError, InvalidRequestError
from paddle_portal.http_events import HttpRequest
from paddle_portal.models import BrowserLinkBody, CreateSessionBody, CustomerPath, MintLinkBody, PortalQuery
from paddle_portal.portal import LinkSpec, PortalView
from paddle_portal.validation import validate


def path_customer_id(request: HttpRequest) -> str:
    """The customer an IAM route's path names."""
    return validate(CustomerPath, request.path_params).customer_id


def session_view(request: HttpRequest) -> PortalView:
    """A POST session request: the subscriptions whose deep links the session carries (body), no query."""
    _no_query(request)
    body = validate(CreateSessionBody, _json_object(request.body()))
    return PortalView(tuple(body.subscription_ids))


def portal_view(request: HttpRequest) -> PortalView:
    """A GET portal request: the page to redirect to (query `action`, `subscription_id`)."""
    query = validate(PortalQuery, _single_values(request.query))
    return PortalView.page(query.action, query.subscription_id)


def link_spec(request: HttpRequest, *, for_browser: bool) -> LinkSpec:
    """A mint-link request's body (what the link will open, for how long). A signed-in user's link, which their page
    follows at once, is short-lived; a backend's may be emailed and last days."""
    _no_query(request)
    body = validate(BrowserLinkBody if for_browser else MintLinkBody, _json_object(request.body()))
    return LinkSpec(body.action, body.subscription_id, body.expires_in)


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
