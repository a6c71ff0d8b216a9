"""How many retries one execution environment may still send to Paddle: retries that do not multiply overload.

A lone 429 or 5xx is retried (the Paddle client's per-request policy: up to three attempts, backoff, `Retry-After`,
the deadline). What this adds is a budget shared by every invocation of the environment, in the manner of gRPC's
retry throttling (`maxTokens`, `tokenRatio`) and the AWS SDKs' retry quota:

- every retryable failure (429, 5xx, connection error, timeout) takes one token; every other answer gives back
  `SUCCESS_CREDIT`; the bucket holds at most `MAX_TOKENS`;
- a retry may start only while more than half of the bucket is left (gRPC's rule): under sustained refusals the
  failures of first attempts alone keep it below that, so retries stop and Paddle sees about one request per
  invocation; as answers succeed again, credits bring retrying back by itself;
- while Paddle's last `Retry-After` has not passed and the budget is spent, nothing is sent: Paddle asks for no
  request in that window (its rate-limit page), so the caller is told at once when to come back.

Pure: the caller passes the time (`time.monotonic()` in the client); one instance per execution environment.
"""

from __future__ import annotations

from dataclasses import dataclass

# A fresh environment retries two lone failures in a row before the budget stops it (tokens 6 -> 4, retries while
# above 3): what one unlucky invocation needs (two retries). Small on purpose: a scale-out starts many environments
# at once, each with a full bucket, and their first retries are the ones that multiply a spike (make load, scenario
# b: with 10 tokens, ten fresh environments made 1.48 Paddle requests per invocation in an 8 s overload).
MAX_TOKENS = 6.0
# One retry earned back per ten answers that were not refusals: in steady state retries stay under ~10% of the
# requests (the SRE book's per-client retry ratio), so a Paddle at its limit sees at most ~1.1 requests per call.
SUCCESS_CREDIT = 0.1
FAILURE_COST = 1.0
# Retries only while more than this share of the bucket is left (gRPC: tokens > maxTokens / 2).
RETRY_THRESHOLD = 0.5
# Paddle's Retry-After is honoured for at most this long when no request is sent at all (a longer value is still
# passed on to callers; the environment just tries again after this).
MAX_HOLD_SECONDS = 60.0


@dataclass
class RetryBudget:
    max_tokens: float = MAX_TOKENS
    success_credit: float = SUCCESS_CREDIT
    tokens: float = MAX_TOKENS
    hold_until: float = 0.0  # monotonic time before which Paddle asked for no request (its last Retry-After)

    def record(self, *, refused: bool, now: float, retry_after: float | None = None) -> None:
        """One attempt's outcome: `refused` for a retryable failure (429, 5xx, no answer), else an answer we keep."""
        if refused:
            self.tokens = max(0.0, self.tokens - FAILURE_COST)
            if retry_after is not None and retry_after > 0:
                self.hold_until = max(self.hold_until, now + min(retry_after, MAX_HOLD_SECONDS))
        else:
            self.tokens = min(self.max_tokens, self.tokens + self.success_credit)

    def may_retry(self) -> bool:
        return self.tokens > self.max_tokens * RETRY_THRESHOLD

    def hold(self, now: float) -> float | None:
        """Seconds the caller should wait instead of a request being sent now, or None to send. Only while the budget
        is spent: with tokens left, a request goes out (a lone 429 must not stop the next caller)."""
        if self.may_retry() or now >= self.hold_until:
            return None
        return self.hold_until - now
