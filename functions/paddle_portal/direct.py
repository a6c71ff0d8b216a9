"""The direct adapter: a payload from another Lambda or Step Functions (`lambda:InvokeFunction`, IAM-trusted).

One strict model for every payload (`DirectPayload`: a separate trust boundary, an API event's fields are refused
here), the same use cases as over HTTP, and failures raised as typed errors: the class name is the invoker's
`errorType`, which Step Functions `Catch` matches on.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Discriminator, Field, RootModel, StringConstraints, Tag

from paddle_portal import portal, wiring
from paddle_portal.deadline import Deadline
from paddle_portal.errors import InternalError, InvalidRequestError, PortalError
from paddle_portal.observability import log_refusal, log_unexpected, logger, record_server_failure
from paddle_portal.portal import LinkSpec, PortalRequest, PortalView
from paddle_portal.validation import CustomerId, LinkFields, StrictModel, SubscriptionIds, validate

CorrelationId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]


class DirectInvocation(StrictModel):
    """Opens a portal session: `{"customer_id": ..., "subscription_ids"?, "correlation_id"?}`."""

    operation: Literal["create_portal_session"] = "create_portal_session"
    customer_id: CustomerId
    subscription_ids: SubscriptionIds = Field(default_factory=list)
    correlation_id: CorrelationId | None = None


class DirectMintLink(LinkFields):
    """Mints a signed link: `{"operation": "create_portal_link", "customer_id": ...}`."""

    operation: Literal["create_portal_link"]
    customer_id: CustomerId
    correlation_id: CorrelationId | None = None


class DirectCheckSetup(StrictModel):
    """The operator's check of the deployment (setup_check.py): `{"operation": "check_setup"}`."""

    operation: Literal["check_setup"]
    correlation_id: CorrelationId | None = None


_OPERATIONS = ("create_portal_link", "check_setup")


def _operation_of(payload: object) -> str:
    """The payload's `operation`; a payload without one (or with an unknown one, which its model then refuses)
    opens a portal session, the first payload this function took."""
    operation = payload.get("operation") if isinstance(payload, dict) else None
    return operation if operation in _OPERATIONS else "create_portal_session"


class DirectPayload(RootModel[DirectInvocation | DirectMintLink | DirectCheckSetup]):
    """Every direct payload, one model: the `operation` field picks the member."""

    model_config = ConfigDict(defer_build=True)
    root: Annotated[
        Annotated[DirectInvocation, Tag("create_portal_session")]
        | Annotated[DirectMintLink, Tag("create_portal_link")]
        | Annotated[DirectCheckSetup, Tag("check_setup")],
        Discriminator(_operation_of),
    ]


def handle(event: object, context: object, request_id: str | None) -> dict[str, Any]:
    try:
        return _answer(event, context, request_id)
    except PortalError as error:
        log_refusal(error)
        if error.status >= 500:
            record_server_failure()
        raise error.for_caller() from None
    except Exception as unexpected:
        log_unexpected(unexpected)
        record_server_failure()
        raise InternalError("unexpected").for_caller() from None


def _answer(event: object, context: object, request_id: str | None) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidRequestError("The payload must be a JSON object with a customer_id.")
    payload = validate(DirectPayload, event, tagged=True).root
    if payload.correlation_id:
        logger.set_correlation_id(payload.correlation_id)
    deps = wiring.dependencies()
    deadline = Deadline.for_invocation(context, deps.settings.request_budget_seconds)
    if isinstance(payload, DirectCheckSetup):
        from paddle_portal.setup_check import check_setup  # an operator's call: not imported on a cold start

        return check_setup(deps, deadline).as_json()
    if isinstance(payload, DirectMintLink):
        spec = LinkSpec(payload.customer_id, payload.action, payload.subscription_id, payload.expires_in)
        request_id = payload.correlation_id or request_id  # what the logs correlate on
        return portal.mint_signed_link(deps, spec, deadline, None, request_id)  # the base URL: PORTAL_LINK_BASE_URL
    wanted = PortalRequest(payload.customer_id, PortalView(tuple(payload.subscription_ids)))
    return portal.open_portal_session(deps, wanted, deadline).body
