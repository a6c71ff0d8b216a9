"""Paddle Billing API client: create a customer portal session, and list the customers with one email address.

urllib3 with one pool per execution environment, the retry policy of `retry_policy` bounded by the request's
deadline, and typed errors (`errors.py`). The API key is passed per call so that a rotated key needs no new client.
"""

from __future__ import annotations

import json
import math
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError

from paddle_portal import __version__
from paddle_portal.deadline import Deadline
from paddle_portal.paddle.errors import (
    PaddleConnectionError,
    PaddleError,
    PaddleRateLimitError,
    PaddleResponseError,
    PaddleTimeoutError,
    PaddleTLSError,
    error_from_response,
)
from paddle_portal.paddle.ids import CUSTOMER_ID
from paddle_portal.paddle.retry_budget import RetryBudget
from paddle_portal.paddle.retry_policy import (
    MIN_ATTEMPT_SECONDS,
    RETRY_STATUSES,
    Failure,
    parse_retry_after,
    retry_delay,
)
from paddle_portal.paddle.screening import screened_request_id

T = TypeVar("T")

PRODUCTION_URL = "https://api.paddle.com"
SANDBOX_URL = "https://sandbox-api.paddle.com"
USER_AGENT = f"paddle-portal-lambda/{__version__} (+urllib3/{urllib3.__version__})"  # type: ignore[attr-defined]

# Per-attempt timeouts, each further cut to the time the deadline leaves. A TLS handshake to Paddle takes tens of
# ms, and Paddle answers this call in well under a second: a connection silent for longer is dead (typically a
# keep-alive connection that went stale while Lambda froze the environment), and a fresh one is the cure.
CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 5.0  # the longest silence tolerated on one attempt (before the headers or inside the body)
MAX_RESPONSE_BYTES = 1024 * 1024  # a portal session is ~2 KB; anything near this is not Paddle talking
READ_CHUNK_BYTES = 64 * 1024


def new_pool() -> urllib3.PoolManager:
    """One pool per execution environment; one prebuilt, verifying SSL context for every connection
    (without it urllib3 builds a context per new connection, ~14 ms each)."""
    context = ssl.create_default_context()  # CERT_REQUIRED, hostname check, TLS 1.2+, system CA store
    return urllib3.PoolManager(num_pools=2, maxsize=4, ssl_context=context, retries=False)


def base_url_for(api_key: str, environment: str, override: str | None) -> str:
    """`PADDLE_API_BASE_URL` wins; then `PADDLE_ENVIRONMENT`; then the key prefix; legacy keys are production."""
    if override:
        return override
    if environment == "sandbox" or (environment == "auto" and api_key.startswith("pdl_sdbx_")):
        return SANDBOX_URL
    return PRODUCTION_URL


@dataclass(frozen=True)
class PaddleResult:
    data: dict[str, Any]
    request_id: str | None
    attempts: int
    latency_ms: float


@dataclass(frozen=True)
class CustomerMatches:
    customer_ids: tuple[str, ...]
    request_id: str | None
    attempts: int
    latency_ms: float


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    headers: urllib3.HTTPHeaderDict


class PaddleClient:
    def __init__(
        self,
        pool: urllib3.PoolManager,
        *,
        environment: str = "auto",
        base_url: str | None = None,
        retry_budget: RetryBudget | None = None,
    ) -> None:
        self._pool = pool
        self._budget = retry_budget or RetryBudget()  # shared by every call of this execution environment
        self._environment = environment
        self._base_url = base_url

    def create_portal_session(
        self,
        api_key: str,
        customer_id: str,
        subscription_ids: Sequence[str],
        deadline: Deadline,
    ) -> PaddleResult:
        """POST /customers/{customer_id}/portal-sessions. `customer_id` must already be validated."""
        payload = {"subscription_ids": list(subscription_ids)} if subscription_ids else {}
        body = json.dumps(payload, separators=(",", ":")).encode()
        answer, attempts, latency_ms = self._call(
            "POST", f"/customers/{customer_id}/portal-sessions", api_key, body, deadline
        )
        data, body_request_id = _data_of(answer.body, dict)
        request_id = screened_request_id(body_request_id or answer.headers.get("Request-Id"))
        return PaddleResult(data, request_id, attempts, latency_ms)

    def find_customers_by_email(self, api_key: str, address: str, deadline: Deadline) -> CustomerMatches:
        """GET /customers?email=<one address>&status=active: the active customers with exactly that email. The
        caller must have checked that `address` is one plausible address (Paddle's filter takes a comma-separated
        list). Entries whose id is not a `ctm_` id or whose email is another address are not counted."""
        query = urlencode({"email": address, "status": "active"})
        answer, attempts, latency_ms = self._call("GET", f"/customers?{query}", api_key, None, deadline)
        data, body_request_id = _data_of(answer.body, list)
        wanted = address.casefold()
        ids = tuple(
            item["id"]
            for item in data
            if isinstance(item, dict)
            and isinstance(item.get("id"), str)
            and CUSTOMER_ID.fullmatch(item["id"])
            and isinstance(item.get("email"), str)
            and item["email"].casefold() == wanted
        )
        request_id = screened_request_id(body_request_id or answer.headers.get("Request-Id"))
        return CustomerMatches(ids, request_id, attempts, latency_ms)

    def _call(
        self, method: str, path: str, api_key: str, body: bytes | None, deadline: Deadline
    ) -> tuple[_Answer, int, float]:
        """One Paddle request with retries; a non-2xx answer raises its typed error."""
        url = base_url_for(api_key, self._environment, self._base_url) + path
        headers = {
            "Authorization": f"Bearer {api_key}",
            "Paddle-Version": "1",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        answer, attempts = self._send(method, url, body, headers, deadline)
        latency_ms = (time.monotonic() - started) * 1000
        if 200 <= answer.status < 300:
            return answer, attempts, latency_ms
        retry_after = parse_retry_after(answer.headers.get("Retry-After"))
        raise error_from_response(
            answer.status,
            answer.body,
            request_id=answer.headers.get("Request-Id"),
            retry_after=math.ceil(retry_after) if retry_after is not None else None,
        )

    def _send(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str], deadline: Deadline
    ) -> tuple[_Answer, int]:
        """Send until `retry_delay` says stop, or the environment's retry budget does. Returns the last answer and the
        attempts made, or raises the last failure when no answer could be had."""
        held = self._budget.hold(time.monotonic())
        if held is not None:  # Paddle asked for no request until then, and the retry budget is spent: say so at once
            raise PaddleRateLimitError(
                429, "rate_limited_locally", "Paddle's Retry-After has not passed", retry_after=math.ceil(held)
            )
        attempt = 0
        while True:
            if deadline.remaining() < MIN_ATTEMPT_SECONDS:
                raise PaddleTimeoutError("no time left for a request to Paddle")
            attempt += 1
            try:
                answer = self._attempt(method, url, body, headers, deadline)
            except (PaddleConnectionError, PaddleTimeoutError) as failure:
                self._budget.record(refused=True, now=time.monotonic())
                delay = self._retry_delay(attempt, _failure_kind(failure), None, deadline)
                if delay is None:
                    raise
            else:
                refused = answer.status in RETRY_STATUSES
                retry_after = parse_retry_after(answer.headers.get("Retry-After")) if refused else None
                self._budget.record(refused=refused, now=time.monotonic(), retry_after=retry_after)
                delay = self._retry_delay(attempt, answer.status, retry_after, deadline)
                if delay is None:
                    return answer, attempt  # a final answer, or no retry allowed: the caller gets this one now
            if delay > 0:
                time.sleep(delay)

    def _retry_delay(
        self, attempt: int, outcome: int | Failure, retry_after: float | None, deadline: Deadline
    ) -> float | None:
        """The policy's delay, while the environment's retry budget allows a retry at all."""
        if not self._budget.may_retry():
            return None
        return retry_delay(attempt, outcome, retry_after, deadline.remaining())

    def _attempt(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str], deadline: Deadline
    ) -> _Answer:
        remaining = deadline.remaining()
        timeout = urllib3.Timeout(
            connect=min(CONNECT_TIMEOUT_SECONDS, remaining), read=min(READ_TIMEOUT_SECONDS, remaining)
        )
        try:
            response = self._pool.request(
                method,
                url,
                body=body,
                headers=headers,
                timeout=timeout,
                retries=False,  # the loop above retries; never follow a redirect with our Authorization header
                redirect=False,
                preload_content=False,
            )
        except NewConnectionError as exc:  # refused, unreachable, DNS: a subclass of ConnectTimeoutError, oddly
            raise PaddleConnectionError(type(exc).__name__) from None
        except Urllib3TimeoutError:
            raise PaddleTimeoutError("Paddle did not answer in time") from None
        except Urllib3SSLError as exc:
            if _is_certificate_failure(exc):
                raise PaddleTLSError("Paddle's TLS certificate did not verify") from None
            raise PaddleConnectionError(type(exc).__name__) from None
        except (Urllib3Error, OSError) as exc:
            # The message of a urllib3 error can carry the URL; only the class name leaves this function.
            raise PaddleConnectionError(type(exc).__name__) from None
        try:
            return _Answer(response.status, _read_body(response, deadline), response.headers)
        finally:
            response.release_conn()


def _failure_kind(failure: PaddleError) -> Failure:
    if isinstance(failure, PaddleTLSError):
        return "tls"
    return "timeout" if isinstance(failure, PaddleTimeoutError) else "connection"


def _is_certificate_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):  # urllib3 wraps the ssl error once or twice
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        nested = [arg for arg in getattr(seen, "args", ()) if isinstance(arg, BaseException)]
        seen = nested[0] if nested else (seen.__cause__ or seen.__context__)
    return False


def _read_body(response: urllib3.BaseHTTPResponse, deadline: Deadline) -> bytes:
    """Read the whole body, bounded in size and by the deadline.

    One `read1` is at most one receive, and the socket's timeout is reset to what is left before each, so a slow
    drip cannot outlive the deadline (a plain `read(n)` loops over receives, each with the full timeout)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        response.close()
        raise PaddleResponseError("Paddle's answer is too large")
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise PaddleTimeoutError("Paddle's answer did not arrive in time")
            sock = getattr(getattr(response, "connection", None), "sock", None)
            if sock is not None:
                sock.settimeout(min(READ_TIMEOUT_SECONDS, remaining))
            chunk = response.read1(READ_CHUNK_BYTES)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise PaddleResponseError("Paddle's answer is too large")
            chunks.append(chunk)
    except (Urllib3TimeoutError, TimeoutError):
        response.close()
        raise PaddleTimeoutError("Paddle's answer did not arrive in time") from None
    except (Urllib3Error, OSError) as exc:  # reset, or fewer bytes than Content-Length promised
        response.close()
        raise PaddleConnectionError(type(exc).__name__) from None
    except (PaddleTimeoutError, PaddleResponseError):
        response.close()  # unread bytes would poison the pooled connection: drop it instead
        raise


def _data_of(body: bytes, kind: type[T]) -> tuple[T, str | None]:
    """Paddle's `data` (an object, or a list for list operations) and `meta.request_id` from a success body."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        raise PaddleResponseError("Paddle's answer is not JSON") from None
    data = parsed.get("data") if isinstance(parsed, dict) else None
    if not isinstance(data, kind):
        raise PaddleResponseError("Paddle's answer has no data of the expected kind")
    meta = parsed.get("meta")
    request_id = meta.get("request_id") if isinstance(meta, dict) else None
    return data, request_id if isinstance(request_id, str) else None
