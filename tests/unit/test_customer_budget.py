"""The per-customer session budget as tables: takes at given times in, refusals and waits out."""

from __future__ import annotations

import pytest

from paddle_portal.customers import CustomerBudget

A, B, C = ("ctm_" + letter * 26 for letter in "abc")


@pytest.mark.parametrize(
    ("takes", "waits"),
    [
        pytest.param([(A, 0.0)] * 3, [None, None, None], id="burst-of-three"),
        pytest.param([(A, 0.0)] * 4, [None, None, None, 20], id="fourth-at-once-waits-a-refill"),
        pytest.param([(A, 0.0)] * 3 + [(A, 10.0)], [None, None, None, 10], id="half-refilled"),
        pytest.param([(A, 0.0)] * 3 + [(A, 20.0)], [None, None, None, None], id="one-refill-later"),
        pytest.param([(A, 0.0)] * 3 + [(B, 0.0)], [None, None, None, None], id="others-unaffected"),
        pytest.param([(A, 0.0)] * 3 + [(A, 1000.0)] * 4, [None] * 6 + [20], id="refill-capped-at-the-burst"),
        pytest.param([(A, 0.0)] * 3 + [(A, 19.5)], [None, None, None, 1], id="wait-is-at-least-a-second"),
    ],
)
def test_sessions_per_customer(takes, waits):
    budget = CustomerBudget(burst=3, refill_seconds=20.0)
    assert [budget.take(customer, now) for customer, now in takes] == waits


def test_refused_takes_do_not_delay_the_next_refill():
    budget = CustomerBudget(burst=1, refill_seconds=10.0)
    assert budget.take(A, 0.0) is None
    assert all(budget.take(A, t) is not None for t in (1.0, 5.0, 9.0))
    assert budget.take(A, 10.0) is None


def test_zero_burst_bounds_nothing():
    budget = CustomerBudget(burst=0)
    assert all(budget.take(A, 0.0) is None for _ in range(100))
    assert len(budget) == 0


def test_the_map_is_bounded_and_forgets_the_customer_idle_longest():
    budget = CustomerBudget(burst=1, refill_seconds=60.0, max_customers=2)
    for customer, now in ((A, 0.0), (B, 1.0), (A, 2.0), (C, 3.0)):  # A used again: B is now the one idle longest
        budget.take(customer, now)
    assert len(budget) == 2
    assert budget.take(A, 4.0) is not None  # still remembered: spent
    assert budget.take(B, 4.0) is None  # forgotten: a full bucket again
