"""The retry budget of one execution environment, as tables: outcomes in, decisions out (time passed in)."""

from __future__ import annotations

import pytest

from paddle_portal.paddle.retry_budget import MAX_TOKENS, RetryBudget

OK, REFUSED = "ok", "refused"


def run(outcomes: list[str], *, retry_after: float | None = None) -> RetryBudget:
    budget = RetryBudget()
    for outcome in outcomes:
        budget.record(refused=outcome == REFUSED, now=100.0, retry_after=retry_after)
    return budget


@pytest.mark.parametrize(
    ("outcomes", "may_retry"),
    [
        pytest.param([], True, id="fresh"),
        pytest.param([REFUSED, REFUSED], True, id="one-invocation-retried-twice"),
        pytest.param([REFUSED] * 3, False, id="three-failures-half-spent"),
        pytest.param([REFUSED] * 50, False, id="sustained-refusals"),
        pytest.param([REFUSED] * 6 + [OK] * 29, False, id="29-successes-not-yet-enough"),
        pytest.param([REFUSED] * 6 + [OK] * 31, True, id="recovery-brings-retries-back"),
        pytest.param([REFUSED] * 50 + [OK] * 60, True, id="recovery-after-a-long-outage"),
        pytest.param([OK] * 1000 + [REFUSED] * 3, False, id="credit-is-capped"),
    ],
)
def test_retries_stop_under_sustained_refusals_and_come_back(outcomes, may_retry):
    assert run(outcomes).may_retry() is may_retry


def test_tokens_stay_within_the_bucket():
    assert (run([REFUSED] * 100).tokens, run([OK] * 100).tokens) == (0.0, MAX_TOKENS)


@pytest.mark.parametrize(
    ("outcomes", "retry_after", "now", "hold"),
    [
        pytest.param([REFUSED], 5.0, 101.0, None, id="budget-left-sends-despite-retry-after"),
        pytest.param([REFUSED] * 6, 5.0, 101.0, 4.0, id="budget-spent-inside-retry-after-holds"),
        pytest.param([REFUSED] * 6, 5.0, 105.0, None, id="retry-after-passed-sends"),
        pytest.param([REFUSED] * 6, None, 100.5, None, id="no-retry-after-sends"),
        pytest.param([REFUSED] * 6, 3600.0, 101.0, 59.0, id="long-retry-after-capped"),
    ],
)
def test_hold_only_while_paddle_asked_to_wait_and_the_budget_is_spent(outcomes, retry_after, now, hold):
    assert run(outcomes, retry_after=retry_after).hold(now) == hold


def test_requests_per_invocation_stay_under_the_goal_when_paddle_refuses_most():
    # Given a Paddle that accepts one attempt in four, and invocations of up to three attempts each
    budget = RetryBudget()
    requests = 0
    accepted = iter([True, False, False, False] * 1000)
    for _ in range(400):
        for attempt in range(3):
            requests += 1
            ok = next(accepted)
            budget.record(refused=not ok, now=0.0)
            if ok or attempt == 2 or not budget.may_retry():
                break
    # Then retries add less than 10% once the budget is spent
    assert requests / 400 <= 1.1
