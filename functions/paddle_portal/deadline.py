"""One time budget per request: nothing we do for a caller may outlive it."""

from __future__ import annotations

import time
from dataclasses import dataclass

# Time kept back from the Lambda's remaining time to log, flush metrics and answer before the runtime kills us.
LAMBDA_SAFETY_MARGIN_SECONDS = 1.0


@dataclass(frozen=True)
class Deadline:
    expires_at: float  # time.monotonic() value

    @classmethod
    def within(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    @classmethod
    def for_invocation(cls, context: object, budget_seconds: float) -> Deadline:
        """The smaller of the configured budget and the Lambda's remaining time minus a safety margin."""
        seconds = budget_seconds
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        if callable(remaining_ms):
            seconds = min(seconds, remaining_ms() / 1000 - LAMBDA_SAFETY_MARGIN_SECONDS)
        return cls.within(max(seconds, 0.0))

    def remaining(self) -> float:
        return max(self.expires_at - time.monotonic(), 0.0)
