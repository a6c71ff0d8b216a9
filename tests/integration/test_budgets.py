"""The function's own budgets through the real handler and client: the retry budget of an execution environment
(sustained refusals stop multiplying Paddle's traffic, and retrying comes back when Paddle recovers) and the
per-customer session bound (Paddle not called beyond it). Real urllib3 against a local Paddle stand-in."""

from __future__ import annotations

from typing import Any

import pytest

from paddle_portal.errors import RateLimitedError
from tests.events import load_event
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, PaddleStub, paddle_error

pytestmark = pytest.mark.usefixtures("fast_backoff")

SESSION_EVENT = "http_api/post_portal_sessions_iam.json"


def post_session(invoke: Any, customer_id: str = CUSTOMER_ID) -> dict[str, Any]:
    event = load_event(SESSION_EVENT)
    event["pathParameters"] = {"customer_id": customer_id}
    event["rawPath"] = f"/customers/{customer_id}/portal-sessions"
    return invoke(event)  # type: ignore[no-any-return]


def test_sustained_refusals_cost_about_one_paddle_request_per_invocation(invoke: Any, paddle: PaddleStub) -> None:
    # Given a Paddle that keeps answering 429 (no Retry-After: only our own short backoff)
    paddle.answers(429, paddle_error("too_many_requests"))

    # When one execution environment is invoked 30 times
    statuses = [post_session(invoke)["statusCode"] for _ in range(30)]

    # Then every caller hears 429, and Paddle saw far fewer than the 90 requests of three attempts each: the first
    # invocation retries as always, then the spent budget stops retries
    assert statuses == [429] * 30
    assert 30 <= len(paddle.requests) <= 34, len(paddle.requests)


def test_a_lone_429_is_still_retried(invoke: Any, paddle: PaddleStub) -> None:
    paddle.answers(429, paddle_error("too_many_requests"), once=True)
    paddle.creates_session()

    assert post_session(invoke)["statusCode"] == 201
    assert len(paddle.requests) == 2


def test_while_paddles_retry_after_runs_a_spent_budget_answers_at_once(invoke: Any, paddle: PaddleStub) -> None:
    # Given a spent budget, and Paddle asking for a minute of quiet
    paddle.answers(429, paddle_error("too_many_requests"), headers={"Retry-After": "60"})
    for _ in range(4):
        post_session(invoke)
    sent = len(paddle.requests)

    # When the next caller comes
    answer = post_session(invoke)

    # Then it hears 429 with Retry-After at once, and Paddle is not asked
    assert answer["statusCode"] == 429
    assert 1 <= int(answer["headers"]["Retry-After"]) <= 60
    assert len(paddle.requests) == sent


def test_retrying_comes_back_when_paddle_recovers(invoke: Any, paddle: PaddleStub) -> None:
    # Given a spent budget
    paddle.answers(429, paddle_error("too_many_requests"), once=True)
    paddle.answers(429, paddle_error("too_many_requests"), once=True)
    paddle.answers(429, paddle_error("too_many_requests"), once=True)
    paddle.answers(429, paddle_error("too_many_requests"), once=True)
    assert [post_session(invoke)["statusCode"] for _ in range(2)] == [429, 429]
    paddle.server.clear()

    # When Paddle answers again for a while (each success gives back a tenth of a retry)
    paddle.creates_session()
    assert all(post_session(invoke)["statusCode"] == 201 for _ in range(40))
    paddle.server.clear()

    # Then a lone 429 is retried again
    paddle.answers(429, paddle_error("too_many_requests"), once=True)
    paddle.creates_session()
    before = len(paddle.requests)
    assert post_session(invoke)["statusCode"] == 201
    assert len(paddle.requests) - before == 2


@pytest.fixture
def bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMER_SESSION_BURST", "2")


@pytest.mark.usefixtures("bounded")
def test_one_customer_gets_a_bounded_number_of_sessions_and_others_are_not_affected(
    invoke: Any, paddle: PaddleStub
) -> None:
    paddle.creates_session(CUSTOMER_ID)
    paddle.creates_session(OTHER_CUSTOMER_ID)

    answers = [post_session(invoke) for _ in range(5)]

    assert [a["statusCode"] for a in answers] == [201, 201, 429, 429, 429]
    assert 1 <= int(answers[-1]["headers"]["Retry-After"]) <= 5
    assert len(paddle.requests) == 2  # the refused ones never reached Paddle
    assert post_session(invoke, OTHER_CUSTOMER_ID)["statusCode"] == 201


@pytest.mark.usefixtures("bounded")
def test_a_direct_invoker_over_the_bound_gets_rate_limited_error(invoke: Any, paddle: PaddleStub) -> None:
    paddle.creates_session(CUSTOMER_ID)
    payload = load_event("direct/create_session_minimal.json")
    invoke(payload)
    invoke(payload)

    with pytest.raises(RateLimitedError):
        invoke(payload)
