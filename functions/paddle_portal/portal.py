"""The use cases, whoever calls them: open a portal session, find the customer of a verified email, mint a signed
link, follow one.

Each takes the execution environment's `Dependencies` (defined here, built by wiring.py) and records of its own
(`PortalRequest`, `PortalView`, `LinkSpec`, whose customer is an id or a `VerifiedEmail` to find one by), never an
HTTP request or a body model: the HTTP and direct adapters read their input into these records, and get back an
`OpenedSession` or a signed link's JSON. Use cases raise `PortalError`s only: Paddle's failures are mapped by
`paddle_failures`, and anything unexpected becomes `InternalError` inside the tracer, so X-Ray never records a bug's
message.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from paddle_portal import paddle_failures
from paddle_portal.customers import CustomerBudget, CustomerCache
from paddle_portal.deadline import Deadline
from paddle_portal.errors import (
    AmbiguousCustomerError,
    ConfigurationError,
    CustomerNotFoundError,
    FieldError,
    InvalidRequestError,
    RateLimitedError,
)
from paddle_portal.observability import logger, record_customer_lookup, record_session_created, tracer
from paddle_portal.paddle.client import CustomerMatches, PaddleResult
from paddle_portal.paddle.errors import PaddleAuthenticationError, PaddleError
from paddle_portal.paddle.ids import Action
from paddle_portal.paddle.retry_policy import MIN_ATTEMPT_SECONDS
from paddle_portal.paddle.session import PortalSession
from paddle_portal.secrets import SecretSource
from paddle_portal.settings import Settings
from paddle_portal.signed_links import SigningKeys, claims_for, link_url, verify

R = TypeVar("R")


class PaddleApi(Protocol):
    """What the use cases ask of Paddle (paddle/client.py's `PaddleClient`; a fake in the unit tests)."""

    def create_portal_session(
        self, api_key: str, customer_id: str, subscription_ids: Sequence[str], deadline: Deadline
    ) -> PaddleResult: ...

    def find_customers_by_email(self, api_key: str, address: str, deadline: Deadline) -> CustomerMatches: ...


@dataclass(frozen=True)
class Dependencies:
    """What the use cases work with, built once per execution environment (wiring.py)."""

    settings: Settings
    client: PaddleApi
    api_key: SecretSource[str]
    signing_keys: SecretSource[SigningKeys]
    customers: CustomerCache  # verified email -> customer id, for this execution environment
    clock: Callable[[], float] = time.time  # wall clock (unix seconds): signed links' expiry
    # Portal sessions each customer may still cause in this execution environment (customers.py).
    sessions_per_customer: CustomerBudget = field(default_factory=lambda: CustomerBudget(burst=0))


def require_subscription_for(action: Action, subscription_id: str | None) -> None:
    """A subscription's deep link needs that subscription's id; the overview needs none."""
    if action != "overview" and subscription_id is None:
        raise InvalidRequestError(
            "Invalid request: see errors for the fields.",
            errors=(FieldError("subscription_id", f"is required when action is {action}"),),
        )


@dataclass(frozen=True)
class VerifiedEmail:
    """A signed-in user known by a verified email only: their customer is the one active Paddle customer with it."""

    address: str


Customer = str | VerifiedEmail  # whom a request is for: a validated customer id, or a verified email to look up


@dataclass(frozen=True)
class PortalView:
    """What a portal session opens: deep links for these subscriptions, and the page a redirect lands on."""

    subscription_ids: tuple[str, ...] = ()
    action: Action = "overview"
    subscription_id: str | None = None

    @classmethod
    def page(cls, action: Action, subscription_id: str | None) -> PortalView:
        """The overview, or one subscription's deep link."""
        require_subscription_for(action, subscription_id)
        return cls((subscription_id,) if subscription_id else (), action, subscription_id)


@dataclass(frozen=True)
class OpenedSession:
    """A portal session as the adapters answer it: Paddle's `{"data", "meta"}` for a JSON answer, and the link of the
    page the request asked for, for a redirect (None when Paddle's answer has no link for that subscription)."""

    body: dict[str, Any]
    location: str | None


@dataclass(frozen=True)
class PortalRequest:
    """A portal session to open, for a customer the caller may act for (ids already validated)."""

    customer: Customer
    view: PortalView


@dataclass(frozen=True)
class LinkSpec:
    """A signed link to mint: for whom, what it will open, and for how many seconds it may be followed."""

    customer: Customer
    action: Action
    subscription_id: str | None
    expires_in: int

    def __post_init__(self) -> None:
        require_subscription_for(self.action, self.subscription_id)


def _with_api_key(deps: Dependencies, deadline: Deadline, call: Callable[[str], R]) -> R:
    """`call` with the API key. Key rotation: when Paddle rejects the key, re-read the secret once, bypassing the
    cache, and call once more with a new key (not when no retry could start in time any more)."""
    api_key = deps.api_key.get()
    try:
        return call(api_key)
    except PaddleAuthenticationError as rejected:
        fresh = deps.api_key.refresh() if deadline.remaining() >= MIN_ATTEMPT_SECONDS else None
        if fresh is None or fresh == api_key:
            raise
        logger.info("Paddle rejected the cached API key; retrying with the re-read secret", code=rejected.code)
        return call(fresh)


@tracer.capture_method(capture_response=False)
@paddle_failures.only_portal_errors
def open_portal_session(deps: Dependencies, request: PortalRequest, deadline: Deadline) -> OpenedSession:
    """A Paddle portal session, every link in Paddle's answer checked against the allowed hosts."""
    customer_id, subscription_ids = customer_id_of(deps, request.customer, deadline), request.view.subscription_ids
    wait = deps.sessions_per_customer.take(customer_id, time.monotonic())
    if wait is not None:  # one customer may not spend everyone's share of Paddle's rate limit
        logger.warning("Customer over their session budget; Paddle not called", customer_id=customer_id)
        raise RateLimitedError("Too many portal sessions for this customer; try again later.", retry_after=wait)
    try:
        result = _with_api_key(
            deps, deadline, lambda key: deps.client.create_portal_session(key, customer_id, subscription_ids, deadline)
        )
        settings = deps.settings
        session = PortalSession.from_paddle(
            result.data, result.request_id, settings.portal_allowed_hosts, customer_id, settings.local_portal_url
        )
    except PaddleError as exc:
        error = paddle_failures.public_error(exc, customer_id)
        raise paddle_failures.reported(exc, error, customer_id=customer_id) from None
    record_session_created(result.latency_ms)
    logger.info(
        "Portal session created",
        customer_id=customer_id,
        subscription_count=len(subscription_ids),
        session_id=session.session_id,
        paddle_request_id=result.request_id,
        attempts=result.attempts,
        latency_ms=round(result.latency_ms, 1),
    )
    return OpenedSession(session.as_json(), session.link(request.view.action, request.view.subscription_id))


def customer_id_of(deps: Dependencies, customer: Customer, deadline: Deadline) -> str:
    """The customer's id; a verified email's is looked up only now, once the whole request is known to be valid."""
    if isinstance(customer, VerifiedEmail):
        return customer_for_email(deps, customer.address, deadline)
    return customer


def email_hash(address: str) -> str:
    """How logs name an email: the first 12 hex characters of the SHA-256 of the lower-cased address."""
    return hashlib.sha256(address.casefold().encode()).hexdigest()[:12]


@tracer.capture_method(capture_response=False)
@paddle_failures.only_portal_errors
def customer_for_email(deps: Dependencies, address: str, deadline: Deadline) -> str:
    """The one active Paddle customer whose email is `address`, a signed-in user's verified email. Shares the
    session call's deadline and retry rules; found customers are cached (`customers.CustomerCache`)."""
    hashed = email_hash(address)
    cached = deps.customers.get(address)
    record_customer_lookup(cache_hit=cached is not None)
    if cached is not None:
        logger.info("Customer found by email (cached)", email_hash=hashed, customer_id=cached)
        return cached
    try:
        matches = _with_api_key(deps, deadline, lambda key: deps.client.find_customers_by_email(key, address, deadline))
    except PaddleAuthenticationError as exc:
        logger.error("Paddle refused the customer lookup: the API key needs the customer.read permission")
        error = ConfigurationError("Paddle rejected the API key for listing customers.", request_id=exc.request_id)
        raise paddle_failures.reported(exc, error, email_hash=hashed) from None
    except PaddleError as exc:
        raise paddle_failures.reported(exc, paddle_failures.public_error(exc, None), email_hash=hashed) from None
    found = matches.customer_ids
    logger.info("Customer lookup by email", email_hash=hashed, matches=len(found), paddle_request_id=matches.request_id)
    if not found:
        raise CustomerNotFoundError(
            "No active Paddle customer has this account's email address (customers appear after their first checkout).",
            request_id=matches.request_id,
        )
    if len(found) > 1:
        raise AmbiguousCustomerError(
            "More than one active Paddle customer has this account's email address; none was chosen.",
            request_id=matches.request_id,
        )
    deps.customers.put(address, found[0])
    return found[0]


def mint_signed_link(
    deps: Dependencies, spec: LinkSpec, deadline: Deadline, base_url: str | None, request_id: str | None
) -> dict[str, Any]:
    """A signed, expiring link that opens what `spec` names, as the answer's JSON. `base_url`: the API's public URL
    as the event names it, when PORTAL_LINK_BASE_URL does not say."""
    customer_id = customer_id_of(deps, spec.customer, deadline)
    base_url = deps.settings.link_base_url or base_url
    if not base_url:
        raise ConfigurationError("Signed portal links need PORTAL_LINK_BASE_URL (no public URL in this event)")
    claims = claims_for(customer_id, spec.action, spec.subscription_id, spec.expires_in, deps.clock())
    url = link_url(base_url, claims, deps.signing_keys.get())
    logger.info("Signed portal link minted", customer_id=customer_id, action=spec.action, expires_at=claims.expires_at)
    expires_at = datetime.fromtimestamp(claims.expires_at, UTC).isoformat().replace("+00:00", "Z")
    return {"data": {"url": url, "expires_at": expires_at}, "meta": {"request_id": request_id}}


def follow_signed_link(deps: Dependencies, query: list[tuple[str, str]]) -> PortalRequest:
    """The portal a signed link opens. The link is the credential: verified before Paddle is called, and it alone
    says what to open."""
    claims = verify(query, deps.signing_keys.get(), deps.clock())
    return PortalRequest(claims.customer_id, PortalView.page(claims.action, claims.subscription_id))
