"""What an HTTP request asks for, read strictly from its path, query and body into a use case's record.

Whom it is for comes first, from the caller (`auth`): the path's customer for an IAM principal, the token's
customer, or the token's verified email, never the body or query of a signed-in user's request.
"""

from __future__ import annotations

import json
from typing import Any

from paddle_portal.errors import FieldError, InvalidRequestError
from paddle_portal.http_api.auth import Caller, TokenCustomer
from paddle_portal.http_api.bodies import BrowserLinkBody, CreateSessionBody, CustomerPath, MintLinkBody, PortalQuery
from paddle_portal.http_api.events import HttpRequest
from paddle_portal.portal import Customer, LinkSpec, PortalRequest, PortalView, VerifiedEmail
from paddle_portal.validation import validate


def session_request(request: HttpRequest, caller: Caller) -> PortalRequest:
    """POST a session: the subscriptions whose deep links it carries (body); no query."""
    customer = customer_of(request, caller)
    _no_query(request)
    body = validate(CreateSessionBody, _json_object(request.body()))
    return PortalRequest(customer, PortalView(tuple(body.subscription_ids)))


def portal_request(request: HttpRequest, caller: Caller) -> PortalRequest:
    """GET the portal: the page to redirect to (query `action`, `subscription_id`)."""
    customer = customer_of(request, caller)
    query = validate(PortalQuery, _single_values(request.query))
    return PortalRequest(customer, PortalView.page(query.action, query.subscription_id))


def link_spec(request: HttpRequest, caller: Caller) -> LinkSpec:
    """POST a signed link: what it will open, for how long (body). A signed-in user's link, which their page follows at
    once, is short-lived; a backend's may be emailed and last days."""
    customer = customer_of(request, caller)
    _no_query(request)
    model = MintLinkBody if _customer_in_path(caller) else BrowserLinkBody
    body = validate(model, _json_object(request.body()))
    return LinkSpec(customer, body.action, body.subscription_id, body.expires_in)


def customer_of(request: HttpRequest, caller: Caller) -> Customer:
    """Whom the request is for, known without I/O: a customer id, or a verified email still to look up."""
    if isinstance(caller, TokenCustomer):
        return caller.customer_id
    if isinstance(caller, VerifiedEmail):
        return caller
    return validate(CustomerPath, request.path_params).customer_id  # an IAM principal acts for the path's customer


def _customer_in_path(caller: Caller) -> bool:
    return not isinstance(caller, TokenCustomer | VerifiedEmail)


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
