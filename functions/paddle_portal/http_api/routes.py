"""The HTTP adapter: an API event (HTTP API 2.0, REST API 1.0, Function URL) is parsed, routed through the one
route table, its caller authenticated as the route requires, and handed to the route's handler. Every failure is
answered here, once: in Paddle's error envelope, or as a small page for a browser following a signed link. This
path always answers and never raises: API Gateway would turn an exception into its own 502.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from paddle_portal import wiring
from paddle_portal.deadline import Deadline
from paddle_portal.errors import InternalError, InvalidRequestError, PortalError, RouteNotFoundError
from paddle_portal.http_api import events, handlers
from paddle_portal.http_api.auth import Auth, authenticate
from paddle_portal.http_api.events import HttpRequest
from paddle_portal.http_api.handlers import Call
from paddle_portal.http_api.responses import BUSY_COOKIE, Answer, error_page, error_response
from paddle_portal.observability import log_refusal, log_unexpected, logger, record_server_failure


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    auth: Auth
    handler: Callable[[Call], Answer]
    html_errors: bool = False  # browsers navigate here: a refusal is a page for a person (when they accept HTML)

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template) + "$")


ROUTES = (
    Route("POST", "/customers/{customer_id}/portal-sessions", Auth.IAM, handlers.create_session),
    Route("GET", "/customers/{customer_id}/portal", Auth.IAM, handlers.open_portal),
    Route("POST", "/portal-sessions", Auth.JWT, handlers.create_session),
    Route("GET", "/portal", Auth.JWT, handlers.open_portal),
    Route("POST", "/customers/{customer_id}/portal-links", Auth.IAM, handlers.mint_link),
    Route("POST", "/portal-links", Auth.JWT, handlers.mint_link),  # a page fetches it, then navigates to the link
    Route("GET", "/links/portal", Auth.LINK, handlers.follow_link, html_errors=True),
)
_BY_KEY = {(route.method, route.template): route for route in ROUTES}


def handle(event: dict[str, Any], context: object, request_id: str | None) -> Answer:
    answer = _answer(event, context, request_id)
    if answer["statusCode"] >= 500:
        record_server_failure()
    return answer


def _answer(event: dict[str, Any], context: object, request_id: str | None) -> Answer:
    route: Route | None = None
    request: HttpRequest | None = None
    try:
        route, request = parse_http_event(event)
        logger.append_keys(route=route.key)
        deps = wiring.dependencies()
        settings = deps.settings
        caller = authenticate(request.identity, route.auth, settings.customer_id_claim, settings.customer_lookup)
        deadline = Deadline.for_invocation(context, settings.request_budget_seconds)
        return route.handler(Call(request, caller, deps, deadline, request_id))
    except PortalError as error:
        log_refusal(error)
        if route is not None and request is not None and route.html_errors and request.wants_html():
            return error_page(error, request_id, request.cookie(BUSY_COOKIE))
        return error_response(error, request_id)
    except Exception as unexpected:
        log_unexpected(unexpected)
        return error_response(InternalError("unexpected"), request_id)


def parse_http_event(event: dict[str, Any]) -> tuple[Route, HttpRequest]:
    """Validate an API event with the parser models and find its route. Raises `PortalError`s."""
    try:
        if "httpMethod" in event:
            from paddle_portal.http_api import rest_events  # REST API events are rare: models built on first use

            request = rest_events.from_rest(event)
        else:
            request = events.from_v2(event)
    except ValidationError:
        raise InvalidRequestError("The event is not a valid API Gateway or Function URL event.") from None
    route, params = match_route(request)
    return route, replace(request, path_params=params)


def match_route(request: HttpRequest) -> tuple[Route, dict[str, str]]:
    """By the gateway's own route template when it names one of ours, else by the path (Function URL, catch-all
    routes)."""
    route = _BY_KEY.get((request.method, request.route_key))
    if route is not None:
        return route, dict(request.path_params)
    for route in ROUTES:
        if route.method == request.method and (found := route.pattern.match(request.path)):
            return route, found.groupdict()
    raise RouteNotFoundError(f"No route for {request.method} on this path.")
