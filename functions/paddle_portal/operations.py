"""What the function offers, whoever calls it: open a portal session, mint a signed link, follow one, find the
customer of a verified email.

Each operation takes one `Dependencies` object (settings, Paddle client, the two secret sources, the clock), built
once per execution environment and configuration. Operations raise `PortalError`s only: Paddle's failures are
turned into the public error tree here (`public_error`), and anything unexpected becomes `InternalError` inside the
tracer, so X-Ray never records a bug's message.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from paddle_portal.auth import VerifiedEmail
from paddle_portal.deadline import Deadline
from paddle_portal.errors import (
    AmbiguousCustomerError,
    ConfigurationError,
    CustomerNotFoundError,
    InternalError,
    InvalidRequestError,
    PortalError,
    RateLimitedError,
    UpstreamError,
    UpstreamTimeoutError,
)
from paddle_portal.inputs import PortalRequest, portal_link_request
from paddle_portal.models import MintLinkBody
from paddle_portal.observability import (
    log_unexpected,
    logger,
    record_customer_lookup,
    record_paddle_error,
    record_session_created,
    tracer,
)
from paddle_portal.paddle import MIN_ATTEMPT_SECONDS, PaddleClient, new_pool
from paddle_portal.paddle_errors import (
    PaddleAPIError,
    PaddleAuthenticationError,
    PaddleBadRequestError,
    PaddleError,
    PaddleNotFoundError,
    PaddleRateLimitError,
    PaddleTimeoutError,
)
from paddle_portal.paddle_session import PortalSession
from paddle_portal.secrets import SecretSource, parse_api_key, secret_reader
from paddle_portal.settings import Settings, get_settings
from paddle_portal.signed_links import SigningKeys, claims_for, link_url, verify

# Sent as Retry-After when Paddle's 429 named none: its limits are per minute.
DEFAULT_RETRY_AFTER_SECONDS = 10


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    client: PaddleClient
    api_key: SecretSource[str]
    signing_keys: SecretSource[SigningKeys]
    customers: CustomerCache  # verified email -> customer id, for this execution environment
    clock: Callable[[], float] = time.time  # wall clock (unix seconds): signed links' expiry


class CustomerCache:
    """Email → customer id, bounded, each entry kept `max_age` seconds. Only found customers are kept: a customer
    created at checkout is found on the next click."""

    MAX_ENTRIES = 1024

    def __init__(self, max_age_seconds: int) -> None:
        self._max_age = max_age_seconds
        self._entries: dict[str, tuple[float, str]] = {}

    def get(self, address: str) -> str | None:
        entry = self._entries.get(address.casefold())
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, address: str, customer_id: str) -> None:
        if self._max_age <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.pop(next(iter(self._entries)))  # the oldest entry
        self._entries[address.casefold()] = (time.monotonic() + self._max_age, customer_id)


@functools.lru_cache(maxsize=1)
def _pool() -> Any:
    return new_pool()  # one connection pool per execution environment: warm calls reuse the TLS connection


@functools.lru_cache(maxsize=1)
def dependencies_for(settings: Settings) -> Dependencies:
    """Built once per execution environment (per configuration: settings are frozen and hashable)."""
    reader = secret_reader(settings.secrets_extension_port)  # one cache for both secrets
    max_age = settings.secret_max_age_seconds
    return Dependencies(
        settings=settings,
        client=PaddleClient(_pool(), environment=settings.paddle_environment, base_url=settings.api_base_url),
        api_key=SecretSource(
            "the Paddle API key secret",
            settings.secret_id,
            max_age,
            parse_api_key,
            reader,
            setting="PADDLE_API_KEY_SECRET_ID",
        ),
        signing_keys=SecretSource(
            "the link signing secret",
            settings.link_signing_secret_id,
            max_age,
            SigningKeys.parse,
            reader,
            setting="PORTAL_LINK_SIGNING_SECRET_ID",
        ),
        customers=CustomerCache(settings.customer_lookup_max_age_seconds),
    )


def dependencies() -> Dependencies:
    """The dependencies for the current settings (read from the environment, validated once per set of values)."""
    return dependencies_for(get_settings())


P = ParamSpec("P")
R = TypeVar("R")


def _only_portal_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Anything but a `PortalError` becomes `InternalError` here, inside the tracer: X-Ray records an escaping
    exception's message, and a bug's message can hold anything (the key, a link)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except PortalError:
            raise
        except Exception as unexpected:
            log_unexpected(unexpected)
            raise InternalError("An unexpected error occurred; the function's logs have the cause.") from None

    return wrapper


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


def _paddle_failed(exc: PaddleError, error: PortalError, **context: Any) -> PortalError:
    record_paddle_error(exc.code if isinstance(exc, PaddleAPIError) else error.code)
    logger.warning(
        "Paddle call failed",
        **context,
        paddle_error=type(exc).__name__,
        paddle_status=getattr(exc, "status", None),
        paddle_code=getattr(exc, "code", None),
        paddle_request_id=exc.request_id,
    )
    return error


@tracer.capture_method(capture_response=False)
@_only_portal_errors
def open_portal_session(deps: Dependencies, request: PortalRequest, deadline: Deadline) -> PortalSession:
    """A Paddle portal session for a customer the caller may act for (ids already validated)."""
    customer_id, subscription_ids = request.customer_id, request.subscription_ids
    try:
        result = _with_api_key(
            deps, deadline, lambda key: deps.client.create_portal_session(key, customer_id, subscription_ids, deadline)
        )
    except PaddleError as exc:
        raise _paddle_failed(exc, public_error(exc, customer_id), customer_id=customer_id) from None
    allowed_hosts = deps.settings.portal_allowed_hosts
    session = PortalSession.from_paddle(
        result.data, result.request_id, allowed_hosts, customer_id, deps.settings.local_portal_url
    )
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
    return session


def email_hash(address: str) -> str:
    """How logs name an email: the first 12 hex characters of the SHA-256 of the lower-cased address."""
    return hashlib.sha256(address.casefold().encode()).hexdigest()[:12]


@tracer.capture_method(capture_response=False)
@_only_portal_errors
def customer_for_email(deps: Dependencies, email: VerifiedEmail, deadline: Deadline) -> str:
    """The one active Paddle customer whose email is the token's verified email (`CUSTOMER_LOOKUP=verified_email`).
    Shares the session call's deadline and retry rules; found customers are cached (`CustomerCache`)."""
    hashed = email_hash(email.address)
    cached = deps.customers.get(email.address)
    record_customer_lookup(cache_hit=cached is not None)
    if cached is not None:
        logger.info("Customer found by email (cached)", email_hash=hashed, customer_id=cached)
        return cached
    try:
        matches = _with_api_key(
            deps, deadline, lambda key: deps.client.find_customers_by_email(key, email.address, deadline)
        )
    except PaddleAuthenticationError as exc:
        logger.error("Paddle refused the customer lookup: the API key needs the customer.read permission")
        error = ConfigurationError("Paddle rejected the API key for listing customers.", request_id=exc.request_id)
        raise _paddle_failed(exc, error, email_hash=hashed) from None
    except PaddleError as exc:
        raise _paddle_failed(exc, public_error(exc, None), email_hash=hashed) from None
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
    deps.customers.put(email.address, found[0])
    return found[0]


def mint_signed_link(
    deps: Dependencies, customer_id: str, spec: MintLinkBody, base_url: str | None, request_id: str | None
) -> dict[str, Any]:
    """A signed, expiring link that opens what `spec` names for `customer_id`, as the answer's JSON."""
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
    return portal_link_request(claims.customer_id, claims.action, claims.subscription_id)


def public_error(exc: PaddleError, customer_id: str | None) -> PortalError:
    """Paddle's failure as the caller sees it. Texts are fixed; only Paddle's code, field errors and request id
    pass through (they describe the caller's data, not ours), screened as they were read (paddle_errors.py)."""
    request_id = exc.request_id
    if isinstance(exc, PaddleNotFoundError):
        what = f"no customer {customer_id}, or not the subscriptions asked for" if customer_id else "no such customer"
        return CustomerNotFoundError(f"Paddle has {what}.", request_id=request_id)
    if isinstance(exc, PaddleBadRequestError):
        return InvalidRequestError(
            exc.detail or "Paddle rejected the request.",
            code=exc.code,
            errors=exc.errors,
            request_id=request_id,
        )
    if isinstance(exc, PaddleRateLimitError):
        return RateLimitedError(
            "Paddle's rate limit was reached; try again later.",
            request_id=request_id,
            retry_after=exc.retry_after if exc.retry_after is not None else DEFAULT_RETRY_AFTER_SECONDS,
        )
    if isinstance(exc, PaddleAuthenticationError):
        return ConfigurationError("Paddle rejected the configured API key.", request_id=request_id)
    if isinstance(exc, PaddleTimeoutError):
        return UpstreamTimeoutError("Paddle did not answer in time.")
    return UpstreamError("Paddle could not be reached or answered with an error.", request_id=request_id)
