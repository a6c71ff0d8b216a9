"""Opening a portal session (`portal.open_portal_session`) on its own: a fake Paddle client and fake secret sources
passed in, no socket. The wire, the real client and the real secrets (and the customer budget, the session of another
customer, Paddle's failures, through the handler) are the integration and security tiers'."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

import pytest

from paddle_portal import portal
from paddle_portal.customers import CustomerCache
from paddle_portal.deadline import Deadline
from paddle_portal.errors import ConfigurationError
from paddle_portal.paddle.client import PaddleResult
from paddle_portal.paddle.errors import PaddleAuthenticationError
from paddle_portal.portal import Dependencies, PortalRequest, PortalView
from paddle_portal.settings import Settings
from tests.support import API_KEY, CUSTOMER_ID, ROTATED_API_KEY, SUBSCRIPTION_ID, portal_session

BAD_KEY = "pdl_sdbx_apikey_01gtgztp8f4kek3yd4g1wrksa3_FAKEFAKEFAKEFAKEFAKE_XXX"


@dataclass
class FakePaddle:
    """Answers from a script, one per call; records (api key, customer, subscriptions) of each call."""

    answers: list[Any] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def create_portal_session(self, api_key: str, customer_id: str, subscription_ids: Any, deadline: Any) -> Any:
        self.calls.append((api_key, (customer_id, tuple(subscription_ids))))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@dataclass
class FakeSecret:
    value: Any
    rotated: Any = None
    refreshes: int = 0

    def get(self) -> Any:
        return self.value

    def refresh(self) -> Any:
        self.refreshes += 1
        self.value = self.rotated if self.rotated is not None else self.value
        return self.value


@pytest.fixture(autouse=True)
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a use case opened a socket")

    monkeypatch.setattr(socket, "socket", refuse)


def session_result(customer_id: str = CUSTOMER_ID, subscription_ids: tuple[str, ...] = ()) -> PaddleResult:
    body = portal_session(customer_id, subscription_ids)
    return PaddleResult(body["data"], "req-paddle", attempts=1, latency_ms=12.0)


def deps(paddle: FakePaddle, api_key: FakeSecret | None = None) -> Dependencies:
    return Dependencies(
        settings=Settings(secret_id="paddle-portal/api-key"),
        client=paddle,  # type: ignore[arg-type]
        api_key=api_key or FakeSecret(API_KEY),  # type: ignore[arg-type]
        signing_keys=FakeSecret(None),  # type: ignore[arg-type]
        customers=CustomerCache(300),
    )


OVERVIEW = PortalView()


def open_session(environment: Dependencies, view: PortalView = OVERVIEW, seconds: float = 5.0) -> Any:
    return portal.open_portal_session(environment, PortalRequest(CUSTOMER_ID, view), Deadline.within(seconds))


def test_a_session_for_the_customer_asked_for():
    paddle = FakePaddle([session_result(subscription_ids=(SUBSCRIPTION_ID,))])

    session = open_session(deps(paddle), PortalView((SUBSCRIPTION_ID,)))

    assert paddle.calls == [(API_KEY, (CUSTOMER_ID, (SUBSCRIPTION_ID,)))]
    assert session.body["data"]["id"] == "cpls_01h4ge9r64c22exjsx0fy8b48b"
    assert session.location == session.body["data"]["urls"]["general"]["overview"]


REJECTED = PaddleAuthenticationError(403, "invalid_token", "")


@pytest.mark.parametrize(
    ("answers", "rotated", "seconds_left", "keys_sent", "refreshes"),
    [
        pytest.param([REJECTED, session_result()], ROTATED_API_KEY, 5.0, [API_KEY, ROTATED_API_KEY], 1, id="rotated"),
        pytest.param([REJECTED], None, 5.0, [API_KEY], 1, id="re-read-the-same-key-no-retry"),
        pytest.param([REJECTED, REJECTED], BAD_KEY, 5.0, [API_KEY, BAD_KEY], 1, id="rotated-to-another-bad-key"),
        pytest.param([REJECTED], ROTATED_API_KEY, 0.2, [API_KEY], 0, id="too-late-for-a-retry-no-re-read"),
    ],
)
def test_a_rejected_key_is_read_again_once(answers, rotated, seconds_left, keys_sent, refreshes):
    paddle = FakePaddle(answers)
    api_key = FakeSecret(API_KEY, rotated=rotated)

    if keys_sent[-1] == ROTATED_API_KEY:  # Paddle accepts only the rotated key
        open_session(deps(paddle, api_key), seconds=seconds_left)
    else:
        with pytest.raises(ConfigurationError):
            open_session(deps(paddle, api_key), seconds=seconds_left)

    assert ([key for key, _ in paddle.calls], api_key.refreshes) == (keys_sent, refreshes)
