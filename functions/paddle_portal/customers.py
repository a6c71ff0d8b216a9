"""What one execution environment keeps per customer: the customer a verified email belongs to (`CustomerCache`), and
how many Paddle portal sessions the customer may still cause (`CustomerBudget`, a token bucket per customer).

The budget: Paddle limits requests per source address, and every customer of a deployment shares that limit. A
customer's real use is a click now and then (open the portal, come back to cancel or change the card); a script is
not. Each customer gets `BURST` sessions at once, then one more every `REFILL_SECONDS`, per execution environment;
beyond that the caller is told when to come back (429 with Retry-After) and Paddle is not called.
docs/operations.md turns this into the bound for a whole deployment (times the reserved concurrency).

The map is bounded (`MAX_CUSTOMERS`): the customer idle longest is forgotten first, and a forgotten customer starts
again with a full bucket, so the bound holds for the customers active in the last few minutes, which is what a
script is. The budget is pure: its caller passes the time (`time.monotonic()`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

BURST = 2  # the template's CUSTOMER_SESSION_BURST: two clicks in a row (measured: `make load`, scenario d)
REFILL_SECONDS = 5.0  # then one more every 5 s: a customer clicking every 5 s is served (make load, a)
MAX_CUSTOMERS = 1024  # ~100 bytes an entry


@dataclass
class CustomerBudget:
    burst: int = BURST
    refill_seconds: float = REFILL_SECONDS
    max_customers: int = MAX_CUSTOMERS
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # customer -> (tokens, as of when)

    def take(self, customer_id: str, now: float) -> int | None:
        """Take one session for `customer_id`: None when allowed, else the whole seconds until the next one is.
        A burst of 0 bounds nothing."""
        if self.burst <= 0:
            return None
        tokens, since = self._buckets.pop(customer_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - since) / self.refill_seconds)
        if tokens >= 1.0:
            tokens -= 1.0
            wait = None
        else:
            wait = max(1, math.ceil((1.0 - tokens) * self.refill_seconds))
        while len(self._buckets) >= self.max_customers:
            self._buckets.pop(next(iter(self._buckets)))  # idle longest (entries move to the end when used)
        self._buckets[customer_id] = (tokens, now)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


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
