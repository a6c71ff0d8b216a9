"""One handler per operation of the HTTP API: read the request into its use case's record, run the use case, shape
the answer. routes.py has authenticated the caller as the route requires."""

from __future__ import annotations

from dataclasses import dataclass

from paddle_portal import portal
from paddle_portal.deadline import Deadline
from paddle_portal.errors import UpstreamError
from paddle_portal.http_api import inputs
from paddle_portal.http_api.auth import Caller
from paddle_portal.http_api.events import HttpRequest
from paddle_portal.http_api.responses import Answer, json_response, redirect
from paddle_portal.portal import Dependencies, OpenedSession


@dataclass(frozen=True)
class Call:
    """An authenticated HTTP request on its way to a use case."""

    request: HttpRequest
    caller: Caller
    deps: Dependencies
    deadline: Deadline  # one budget for every Paddle call the request makes
    request_id: str | None


def create_session(call: Call) -> Answer:
    """POST /customers/{customer_id}/portal-sessions, POST /portal-sessions: a session, 201 JSON."""
    wanted = inputs.session_request(call.request, call.caller)
    session = portal.open_portal_session(call.deps, wanted, call.deadline)
    return json_response(201, session.body)


def open_portal(call: Call) -> Answer:
    """GET /customers/{customer_id}/portal, GET /portal: a session, 302 to the page asked for (200 JSON on request)."""
    wanted = inputs.portal_request(call.request, call.caller)
    return _session_answer(call.request, portal.open_portal_session(call.deps, wanted, call.deadline))


def mint_link(call: Call) -> Answer:
    """POST /customers/{customer_id}/portal-links, POST /portal-links: a signed, expiring link, 201 JSON."""
    spec = inputs.link_spec(call.request, call.caller)
    link = portal.mint_signed_link(call.deps, spec, call.deadline, call.request.public_url, call.request_id)
    return json_response(201, link)


def follow_link(call: Call) -> Answer:
    """GET /links/portal: the signed link's session, 302 to its page (200 JSON on request)."""
    wanted = portal.follow_signed_link(call.deps, call.request.query)
    return _session_answer(call.request, portal.open_portal_session(call.deps, wanted, call.deadline))


def _session_answer(request: HttpRequest, session: OpenedSession) -> Answer:
    if request.wants_json():
        return json_response(200, session.body)
    if session.location is None:
        raise UpstreamError("Paddle's answer has no link for the requested subscription.")
    return redirect(session.location)
