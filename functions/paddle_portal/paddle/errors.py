"""Errors of the Paddle API client: one small tree, and one function that maps a response to its class."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from paddle_portal.paddle.screening import screened, screened_code, screened_field, screened_request_id


@dataclass(frozen=True)
class PaddleFieldError:
    """One of Paddle's field errors (`error.errors[]`), screened."""

    field: str
    message: str


class PaddleError(Exception):
    """Base of everything the client raises. `request_id` is Paddle's, when an answer carried one."""

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


class PaddleConnectionError(PaddleError):
    """No usable answer: connection refused or reset, TLS failure, stale keep-alive connection."""


class PaddleTLSError(PaddleConnectionError):
    """Paddle's certificate did not verify (wrong CA store, an intercepting proxy): never retried."""


class PaddleTimeoutError(PaddleError):
    """The request's deadline ran out before Paddle answered."""


class PaddleResponseError(PaddleError):
    """Paddle answered success with a body we cannot use (not JSON, missing fields, too large)."""


class PaddleAPIError(PaddleError):
    """Paddle answered with an error status. Carries Paddle's envelope, never the request's credentials."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        errors: tuple[PaddleFieldError, ...] = (),
        request_id: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"Paddle answered {status} {code}", request_id=request_id)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors
        self.retry_after = retry_after


class PaddleBadRequestError(PaddleAPIError):
    """400 and other 4xx about the data we sent."""


class PaddleAuthenticationError(PaddleAPIError):
    """401/403: our API key is invalid, expired, revoked or lacks the permission."""


class PaddleNotFoundError(PaddleAPIError):
    """404: unknown customer or subscription."""


class PaddleRateLimitError(PaddleAPIError):
    """429 after retries."""


class PaddleServerError(PaddleAPIError):
    """5xx after retries, or a 4xx other than 401/403/404/429 whose body is not Paddle's envelope."""


def _error_class(status: int, from_paddle: bool) -> type[PaddleAPIError]:
    """By status, as the contract's error table says. `from_paddle` (the body is Paddle's error envelope) matters only
    for the other 4xx: without an envelope they say nothing about the caller's data, so they are upstream trouble."""
    if status == 429:
        return PaddleRateLimitError  # an edge's rate limit is a rate limit too
    if status >= 500 or status < 400:
        return PaddleServerError  # 5xx, or a 1xx/3xx a JSON API should never send
    if status in (401, 403):
        return PaddleAuthenticationError  # at worst one forced secret re-read per 30 s (secrets.py)
    if status == 404:
        return PaddleNotFoundError
    return PaddleBadRequestError if from_paddle else PaddleServerError


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def error_from_response(
    status: int,
    body: bytes,
    *,
    request_id: str | None = None,
    retry_after: int | None = None,
) -> PaddleAPIError:
    """Build the typed error for a non-2xx answer. Non-JSON bodies (an edge's HTML page) get a generic code."""
    envelope: dict[str, Any] = {}
    try:
        parsed = json.loads(body)
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
            envelope = parsed
    except (ValueError, RecursionError):  # HTML, garbage, empty, truncated, absurdly nested
        pass
    error = envelope.get("error", {})
    meta = envelope.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("request_id"), str):
        request_id = meta["request_id"]
    request_id = screened_request_id(request_id)
    items = error.get("errors")
    # Every text below may reach a caller (or a log line): screened where it enters, once (screening.py).
    field_errors = tuple(
        PaddleFieldError(
            screened_field(_text(item.get("field"))),
            screened(_text(item.get("message")), "Paddle rejected this value."),
        )
        for item in (items if isinstance(items, list) else ())
        if isinstance(item, dict)
    )
    return _error_class(status, bool(envelope))(
        status,
        screened_code(_text(error.get("code")), f"http_{status}"),
        screened(_text(error.get("detail")), ""),
        errors=field_errors,
        request_id=request_id,
        retry_after=retry_after,
    )
