"""Paddle Billing API client for one operation: create a customer portal session.

urllib3 with one pool per execution environment, an explicit retry policy bounded by the request's deadline,
and typed errors (`paddle_errors`). The API key is passed per call so that a rotated key needs no new client.
"""

from __future__ import annotations

import email.utils
import json
import random
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError

from paddle_portal import __version__
from paddle_portal.deadline import Deadline
from paddle_portal.paddle_errors import (
    PaddleAPIError,
    PaddleConnectionError,
    PaddleError,
    PaddleRateLimitError,
    PaddleResponseError,
    PaddleTimeoutError,
    error_from_response,
)

PRODUCTION_URL = "https://api.paddle.com"
SANDBOX_URL = "https://sandbox-api.paddle.com"
USER_AGENT = f"paddle-portal-lambda/{__version__} (+urllib3/{urllib3.__version__})"

# Retry policy. Creating a portal session has no lasting side effect, so POST is retried like a GET.
MAX_ATTEMPTS = 3
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_INITIAL_SECONDS = 0.2  # Paddle asks for exponential backoff on 5xx
BACKOFF_MAX_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = (
    3.0  # a TLS handshake to Paddle takes tens of ms; more means the network is broken
)
MIN_ATTEMPT_SECONDS = (
    0.25  # no attempt starts that could not finish: below this, give up instead
)
MAX_RESPONSE_BYTES = (
    1024 * 1024
)  # a portal session is ~2 KB; anything near this is not Paddle talking
READ_CHUNK_BYTES = 64 * 1024


def equal_jitter(delay: float) -> float:
    """Sleep between half and all of the backoff delay (spreads retries of concurrent invocations)."""
    return random.uniform(delay / 2, delay)


def new_pool() -> urllib3.PoolManager:
    """One pool per execution environment; one prebuilt, verifying SSL context for every connection."""
    context = ssl.create_default_context()
    return urllib3.PoolManager(
        num_pools=2, maxsize=4, ssl_context=context, retries=False
    )


def base_url_for(api_key: str, environment: str, override: str | None) -> str:
    """`PADDLE_API_BASE_URL` wins; then `PADDLE_ENVIRONMENT`; then the key prefix; legacy keys are production."""
    if override:
        return override
    if environment == "sandbox" or (
        environment == "auto" and api_key.startswith("pdl_sdbx_")
    ):
        return SANDBOX_URL
    return PRODUCTION_URL


@dataclass(frozen=True)
class PaddleResult:
    data: dict[str, Any]
    request_id: str | None
    attempts: int
    latency_ms: float


class PaddleClient:
    def __init__(
        self,
        pool: urllib3.PoolManager,
        *,
        environment: str = "auto",
        base_url: str | None = None,
        jitter: Callable[[float], float] = equal_jitter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._pool = pool
        self._environment = environment
        self._base_url = base_url
        self._jitter = jitter
        self._sleep = sleep

    def create_portal_session(
        self,
        api_key: str,
        customer_id: str,
        subscription_ids: Sequence[str],
        deadline: Deadline,
    ) -> PaddleResult:
        """POST /customers/{customer_id}/portal-sessions. `customer_id` must already be validated."""
        url = f"{base_url_for(api_key, self._environment, self._base_url)}/customers/{customer_id}/portal-sessions"
        payload = (
            {"subscription_ids": list(subscription_ids)} if subscription_ids else {}
        )
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Authorization": f"Bearer {api_key}",
            "Paddle-Version": "1",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        started = time.monotonic()
        status, response_body, response_headers, attempts = self._send(
            url, body, headers, deadline
        )
        latency_ms = (time.monotonic() - started) * 1000
        request_id = response_headers.get("Request-Id")
        if 200 <= status < 300:
            return PaddleResult(
                _session_data(response_body), request_id, attempts, latency_ms
            )
        raise error_from_response(
            status,
            response_body,
            request_id=request_id,
            retry_after=_retry_after(response_headers.get("Retry-After")),
        )

    def _send(
        self, url: str, body: bytes, headers: dict[str, str], deadline: Deadline
    ) -> tuple[int, bytes, urllib3.HTTPHeaderDict, int]:
        """Send with retries. Returns the last answer, or raises when no answer could be had."""
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline.remaining()
            if remaining < MIN_ATTEMPT_SECONDS:
                raise PaddleTimeoutError("no time left for a request to Paddle")
            try:
                status, response_body, response_headers = self._attempt(
                    url, body, headers, deadline, remaining
                )
            except PaddleTimeoutError:
                raise
            except PaddleConnectionError:
                if attempt >= MAX_ATTEMPTS or not self._pause(
                    self._backoff(attempt), deadline
                ):
                    raise
                continue
            if status not in RETRY_STATUSES or attempt >= MAX_ATTEMPTS:
                return status, response_body, response_headers, attempt
            wait = self._backoff(attempt)
            if status == 429:
                retry_after = _retry_after(response_headers.get("Retry-After"))
                wait = max(wait, retry_after or 0)
            if not self._pause(wait, deadline):
                return status, response_body, response_headers, attempt

    def _attempt(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        deadline: Deadline,
        remaining: float,
    ) -> tuple[int, bytes, urllib3.HTTPHeaderDict]:
        timeout = urllib3.Timeout(
            connect=min(CONNECT_TIMEOUT_SECONDS, remaining), read=remaining
        )
        try:
            response = self._pool.request(
                "POST",
                url,
                body=body,
                headers=headers,
                timeout=timeout,
                retries=False,
                preload_content=False,
            )
        except Urllib3TimeoutError as exc:
            if deadline.remaining() < MIN_ATTEMPT_SECONDS:
                raise PaddleTimeoutError("Paddle did not answer in time") from None
            raise PaddleConnectionError(type(exc).__name__) from None
        except (Urllib3Error, OSError) as exc:
            # The message of a urllib3 error can carry the URL; only the class name leaves this function.
            raise PaddleConnectionError(type(exc).__name__) from None
        try:
            return response.status, _read_body(response, deadline), response.headers
        finally:
            response.release_conn()

    def _backoff(self, attempt: int) -> float:
        return self._jitter(
            min(BACKOFF_MAX_SECONDS, BACKOFF_INITIAL_SECONDS * 2 ** (attempt - 1))
        )

    def _pause(self, seconds: float, deadline: Deadline) -> bool:
        """Sleep before the next attempt, unless the attempt after it could not finish in time."""
        if deadline.remaining() - seconds < MIN_ATTEMPT_SECONDS:
            return False
        self._sleep(seconds)
        return True


def _read_body(response: urllib3.BaseHTTPResponse, deadline: Deadline) -> bytes:
    """Read the whole body, bounded in size and by the deadline (a slow drip must not outlive it)."""
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            sock = getattr(getattr(response, "connection", None), "sock", None)
            remaining = deadline.remaining()
            if remaining <= 0:
                raise PaddleTimeoutError("Paddle's answer did not arrive in time")
            if sock is not None:
                sock.settimeout(remaining)
            chunk = response.read(READ_CHUNK_BYTES)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise PaddleResponseError("Paddle's answer is too large")
            chunks.append(chunk)
    except Urllib3TimeoutError:
        response.close()
        raise PaddleTimeoutError("Paddle's answer did not arrive in time") from None
    except (Urllib3Error, OSError) as exc:
        response.close()
        raise PaddleConnectionError(type(exc).__name__) from None
    except (PaddleTimeoutError, PaddleResponseError):
        response.close()  # unread bytes would poison the pooled connection: drop it instead
        raise


def _session_data(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        raise PaddleResponseError("Paddle's answer is not JSON") from None
    data = parsed.get("data") if isinstance(parsed, dict) else None
    if not isinstance(data, dict):
        raise PaddleResponseError("Paddle's answer has no data object")
    return data


def _retry_after(value: str | None) -> int | None:
    """Seconds from a `Retry-After` header given in seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, round(when.timestamp() - time.time()))


__all__ = [
    "PaddleAPIError",
    "PaddleClient",
    "PaddleError",
    "PaddleRateLimitError",
    "PaddleResult",
    "base_url_for",
    "new_pool",
]
