"""The direct adapter: a payload from another Lambda or Step Functions (`lambda:InvokeFunction`, IAM-trusted).

One strict model for every payload (`models.DirectPayload`: a separate trust boundary, an API event's fields are
refused here), the same use cases as over HTTP, and failures raised as typed errors: the class name is the invoker's
`errorType`, which Step Functions `Catch` matches on.
"""

from __future__ import annotations

from typing import Any

from paddle_portal import portal, wiring
from paddle_portal.deadline import Deadline
from paddle_portal.errors import InternalError, InvalidRequestError, PortalError
from paddle_portal.models import DirectMintLink, DirectPayload, validate
from paddle_portal.observability import log_refusal, log_unexpected, logger
from paddle_portal.portal import LinkSpec, PortalRequest, PortalView


def handle(event: object, context: object, request_id: str | None) -> dict[str, Any]:
    try:
        return _answer(event, context, request_id)
    except PortalError as error:
        log_refusal(error)
        raise error.for_caller() from None
    except Exception as unexpected:
        log_unexpected(unexpected)
        raise InternalError("unexpected").for_caller() from None


def _answer(event: object, context: object, request_id: str | None) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidRequestError("The payload must be a JSON object with a customer_id.")
    payload = validate(DirectPayload, event, tagged=True).root
    if payload.correlation_id:
        logger.set_correlation_id(payload.correlation_id)
    if isinstance(payload, DirectMintLink):
        spec = LinkSpec(payload.customer_id, payload.action, payload.subscription_id, payload.expires_in)
        deps = wiring.dependencies()
        request_id = payload.correlation_id or request_id  # what the logs correlate on
        return portal.mint_signed_link(deps, spec, _deadline(context, deps), None, request_id)  # PORTAL_LINK_BASE_URL
    wanted = PortalRequest(payload.customer_id, PortalView(tuple(payload.subscription_ids)))
    deps = wiring.dependencies()
    return portal.open_portal_session(deps, wanted, _deadline(context, deps)).as_json()


def _deadline(context: object, deps: wiring.Dependencies) -> Deadline:
    return Deadline.for_invocation(context, deps.settings.request_budget_seconds)
