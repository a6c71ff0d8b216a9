"""When to try Paddle again: the retry policy as constants and one pure decision (`retry_delay`).

Creating a portal session has no lasting side effect, so POST is retried like a GET. The Paddle client's send loop
asks `retry_delay` after every attempt and sleeps what it answers, or stops.
"""

from __future__ import annotations

import email.utils
import random
import re
import time
from typing import Literal

MAX_ATTEMPTS = 3
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_INITIAL_SECONDS = 0.2  # Paddle asks for exponential backoff on 5xx: 0.2 s, then 0.4 s (before jitter)
BACKOFF_MAX_SECONDS = 2.0
MIN_ATTEMPT_SECONDS = 0.25  # no attempt starts that could not finish: below this, give up instead
MAX_RETRY_AFTER_SECONDS = 86_400  # longer (or unreadable) Retry-After values are not trusted

# What an attempt that got no answer ended with. A certificate that does not verify will not verify on the next
# attempt either; a dropped connection or a silent one may be cured by a new connection.
Failure = Literal["connection", "timeout", "tls"]

_DELTA_SECONDS = re.compile(r"[0-9]{1,9}")


def equal_jitter(delay: float) -> float:
    """Sleep between half and all of the backoff delay (spreads retries of concurrent invocations).

    Looked up when a delay is computed, so tests can pin it (`monkeypatch.setattr(retry_policy, "equal_jitter", f)`)."""
    return random.uniform(delay / 2, delay)  # noqa: S311 - jitter, not cryptography


def backoff(attempt: int) -> float:
    """Capped exponential backoff after the `attempt`-th attempt, with equal jitter."""
    return equal_jitter(min(BACKOFF_MAX_SECONDS, BACKOFF_INITIAL_SECONDS * 2 ** (attempt - 1)))


def retry_delay(attempt: int, outcome: int | Failure, retry_after: float | None, remaining: float) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None to stop.

    `outcome` is the HTTP status of the answer, or how an attempt without one failed; `retry_after` is Paddle's
    Retry-After in seconds (None when absent or unreadable); `remaining` is what the deadline leaves. A retryable
    outcome is retried at most MAX_ATTEMPTS - 1 times, never when the wait would leave the next attempt too little
    time. A dropped connection is usually a pooled keep-alive connection that went stale while Lambda froze the
    environment: the first retry goes out at once, on a new connection."""
    if outcome == "tls" or (isinstance(outcome, int) and outcome not in RETRY_STATUSES) or attempt >= MAX_ATTEMPTS:
        return None
    wait = 0.0 if outcome == "connection" and attempt == 1 else backoff(attempt)
    if isinstance(outcome, int) and retry_after is not None:
        wait = max(wait, retry_after)  # Paddle's own word beats our guess
    if remaining - wait < MIN_ATTEMPT_SECONDS:
        return None
    return wait


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header given in seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
            seconds = max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError, OverflowError, IndexError):
            return None
    return seconds if seconds <= MAX_RETRY_AFTER_SECONDS else None
