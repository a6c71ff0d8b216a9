"""The public error tree: what API callers see as a status and code, and direct invokers as `errorType`.

Class names are a stable contract (Step Functions `Catch` and `errorType` match on them): rename nothing.
Messages are built from fixed texts and validated ids only, never from secrets, portal URLs or raw input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

ErrorType = Literal["request_error", "api_error"]


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class PortalError(Exception):
    """Base of every error this function reports on purpose.

    What a caller may read of it is decided here, once, on the type: the detail, unless the class says its cause is
    for the operator's logs only (`private_detail`); then every caller (HTTP JSON, the signed-link page, a direct
    invoker's exception) reads that fixed text instead.
    """

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    type: ClassVar[ErrorType] = "api_error"
    private_detail: ClassVar[str | None] = None

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: tuple[FieldError, ...] = (),
        request_id: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]  # instance override of the class default (Paddle's own code)
        self.errors = errors
        self.request_id = request_id
        self.retry_after = retry_after

    @property
    def public_detail(self) -> str:
        return self.private_detail or self.detail

    def for_caller(self) -> PortalError:
        """This error as a caller may see it (itself, unless its detail is private)."""
        if self.private_detail is None:
            return self
        return type(self)(self.private_detail, request_id=self.request_id)

    def __str__(self) -> str:
        text = f"{self.code}: {self.detail}"
        if self.errors:
            text += " (" + "; ".join(f"{e.field}: {e.message}" for e in self.errors) + ")"
        if self.retry_after is not None:
            text += f" [retry_after {self.retry_after}s]"
        if self.request_id:
            text += f" [request_id {self.request_id}]"
        return text


class InvalidRequestError(PortalError):
    status = 400
    code = "invalid_field"
    type = "request_error"


class RequestTooLargeError(PortalError):
    status = 413
    code = "request_too_large"
    type = "request_error"


class AuthenticationMissingError(PortalError):
    status = 401
    code = "authentication_missing"
    type = "request_error"


class ForbiddenError(PortalError):
    status = 403
    code = "forbidden"
    type = "request_error"


class RouteNotFoundError(PortalError):
    status = 404
    code = "not_found"
    type = "request_error"


class CustomerNotFoundError(PortalError):
    """Paddle has no such customer, or no such subscription for that customer."""

    status = 404
    code = "not_found"
    type = "request_error"


class AmbiguousCustomerError(PortalError):
    """More than one active Paddle customer has the token's verified email: refused, never guessed."""

    status = 409
    code = "ambiguous_customer"
    type = "request_error"


class RateLimitedError(PortalError):
    status = 429
    code = "too_many_requests"
    type = "request_error"


class UpstreamError(PortalError):
    status = 502
    code = "bad_gateway"


class UpstreamTimeoutError(PortalError):
    status = 504
    code = "gateway_timeout"


class ConfigurationError(PortalError):
    """Our own setup is wrong (secret missing or malformed, key rejected, bad setting). Details go to the logs."""

    status = 500
    code = "configuration_error"
    private_detail = "The service is not configured correctly. The operator can find the cause in its logs."


class InternalError(PortalError):
    status = 500
    code = "internal_error"
    private_detail = "An unexpected error occurred. The operator can find the cause in its logs."


class LinkInvalidError(PortalError):
    """A signed portal link that is altered, expired, or signed with a key we no longer hold."""

    status = 403
    code = "invalid_link"
    type = "request_error"
