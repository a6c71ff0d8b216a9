"""One handler per operation of the HTTP API: each reads its input, calls its use case, and shapes the answer.

A handler gets the authenticated `Call` (http_api.py has authenticated the caller for the route). Whom a call may
act for is settled here, in this order: the path's customer (IAM) or the token's (JWT) first, then the rest of the
input is read, and only once the whole request is valid is Paddle asked whose a verified email is.
"""

from __future__ import annotations

from dataclasses import dataclass

from paddle_portal import inputs, portal
from paddle_portal.auth import Caller, IamPrincipal, TokenCustomer, TokenEmail
from paddle_portal.deadline import Deadline
from paddle_portal.http_events import HttpRequest
from paddle_portal.paddle_session import PortalSession
from paddle_portal.portal import PortalRequest, PortalView
from paddle_portal.responses import Answer, json_response, redirect
from paddle_portal.wiring import Dependencies


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
    subject = _subject(call)
    view = inputs.session_view(call.request)
    session = portal.open_portal_session(call.deps, PortalRequest(_customer(call, subject), view), call.deadline)
    return json_response(201, session.as_json())


def open_portal(call: Call) -> Answer:
    """GET /customers/{customer_id}/portal, GET /portal: a session, 302 to the page asked for (200 JSON on request)."""
    subject = _subject(call)
    view = inputs.portal_view(call.request)
    session = portal.open_portal_session(call.deps, PortalRequest(_customer(call, subject), view), call.deadline)
    return _session_answer(call.request, session, view)


def mint_link(call: Call) -> Answer:
    """POST /customers/{customer_id}/portal-links, POST /portal-links: a signed, expiring link, 201 JSON."""
    subject = _subject(call)
    spec = inputs.link_spec(call.request, for_browser=not isinstance(call.caller, IamPrincipal))
    customer_id = _customer(call, subject)
    return json_response(
        201, portal.mint_signed_link(call.deps, customer_id, spec, call.request.public_url, call.request_id)
    )


def follow_link(call: Call) -> Answer:
    """GET /links/portal: the signed link's session, 302 to its page (200 JSON on request)."""
    wanted = portal.follow_signed_link(call.deps, call.request.query)
    session = portal.open_portal_session(call.deps, wanted, call.deadline)
    return _session_answer(call.request, session, wanted.view)


def _subject(call: Call) -> str | TokenEmail:
    """Whom the call may act for, known without I/O: a customer id, or a verified email still to look up."""
    caller = call.caller
    if isinstance(caller, TokenCustomer):
        return caller.customer_id
    if isinstance(caller, TokenEmail):
        return caller
    return inputs.path_customer_id(call.request)  # an IAM principal acts for the customer its request names


def _customer(call: Call, subject: str | TokenEmail) -> str:
    if isinstance(subject, TokenEmail):
        return portal.customer_for_email(call.deps, subject.address, call.deadline)
    return subject


def _session_answer(request: HttpRequest, session: PortalSession, view: PortalView) -> Answer:
    if request.wants_json():
        return json_response(200, session.as_json())
    return redirect(session.link(view.action, view.subscription_id))
