"""The use cases (`portal.py`) on their own: a fake Paddle client and fake secret sources passed in, no socket.

The wire, the real client and the real secrets are the integration tier's; here, what each use case decides.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from paddle_portal import portal
from paddle_portal.customers import CustomerCache
from paddle_portal.deadline import Deadline
from paddle_portal.errors import (
    AmbiguousCustomerError,
    ConfigurationError,
    CustomerNotFoundError,
    InternalError,
    InvalidRequestError,
    LinkInvalidError,
    RateLimitedError,
    UpstreamError,
)
from paddle_portal.paddle.client import CustomerMatches, PaddleResult
from paddle_portal.paddle.errors import (
    PaddleAPIError,
    PaddleAuthenticationError,
    PaddleNotFoundError,
    PaddleRateLimitError,
)
from paddle_portal.portal import Dependencies, LinkSpec, PortalRequest, PortalView, VerifiedEmail
from paddle_portal.settings import Settings
from paddle_portal.signed_links import SigningKeys
from tests.support import API_KEY, CUSTOMER_ID, OTHER_CUSTOMER_ID, ROTATED_API_KEY, SUBSCRIPTION_ID, portal_session

EMAIL = "jane@example.com"
NOW = 1_900_000_000.0
KEYS = SigningKeys({"k1": b"k" * 43}, "k1")


@dataclass
class FakePaddle:
    """Answers from a script, one per call; records (api key, what was asked)."""

    answers: list[Any] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def _next(self, api_key: str, asked: Any) -> Any:
        self.calls.append((api_key, asked))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def create_portal_session(self, api_key: str, customer_id: str, subscription_ids: Any, deadline: Any) -> Any:
        return self._next(api_key, (customer_id, tuple(subscription_ids)))

    def find_customers_by_email(self, api_key: str, address: str, deadline: Any) -> Any:
        return self._next(api_key, address)


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


def deps(paddle: FakePaddle, api_key: FakeSecret | None = None, **settings: Any) -> Dependencies:
    return Dependencies(
        settings=Settings(secret_id="paddle-portal/api-key", **settings),
        client=paddle,  # type: ignore[arg-type]
        api_key=api_key or FakeSecret(API_KEY),  # type: ignore[arg-type]
        signing_keys=FakeSecret(KEYS),  # type: ignore[arg-type]
        customers=CustomerCache(300),
        clock=lambda: NOW,
    )


def within() -> Deadline:
    return Deadline.within(5.0)


def test_a_session_for_the_customer_asked_for() -> None:
    paddle = FakePaddle([session_result(subscription_ids=(SUBSCRIPTION_ID,))])

    session = portal.open_portal_session(
        deps(paddle), PortalRequest(CUSTOMER_ID, PortalView((SUBSCRIPTION_ID,))), within()
    )

    assert paddle.calls == [(API_KEY, (CUSTOMER_ID, (SUBSCRIPTION_ID,)))]
    assert session.body["data"]["id"] == "cpls_01h4ge9r64c22exjsx0fy8b48b"
    assert session.location == session.body["data"]["urls"]["general"]["overview"]


def test_a_session_paddle_says_is_another_customers_is_refused() -> None:
    paddle = FakePaddle([session_result(OTHER_CUSTOMER_ID)])

    with pytest.raises(UpstreamError):
        portal.open_portal_session(deps(paddle), PortalRequest(CUSTOMER_ID, PortalView()), within())


def test_a_verified_email_is_looked_up_once_then_cached() -> None:
    found = CustomerMatches((CUSTOMER_ID,), "req-lookup", attempts=1, latency_ms=5.0)
    paddle = FakePaddle([found, session_result(), session_result()])
    environment = deps(paddle)

    for _ in range(2):
        portal.open_portal_session(environment, PortalRequest(VerifiedEmail(EMAIL), PortalView()), within())

    assert [asked for _, asked in paddle.calls] == [EMAIL, (CUSTOMER_ID, ()), (CUSTOMER_ID, ())]


@pytest.mark.parametrize(
    ("ids", "error"),
    [
        pytest.param((), CustomerNotFoundError, id="none"),
        pytest.param((CUSTOMER_ID, OTHER_CUSTOMER_ID), AmbiguousCustomerError, id="several-never-guessed"),
    ],
)
def test_an_email_that_is_not_exactly_one_customer(ids: tuple[str, ...], error: type[Exception]) -> None:
    paddle = FakePaddle([CustomerMatches(ids, "req-lookup", attempts=1, latency_ms=5.0)])

    with pytest.raises(error):
        portal.open_portal_session(deps(paddle), PortalRequest(VerifiedEmail(EMAIL), PortalView()), within())

    assert len(paddle.calls) == 1  # no session was asked for


def test_a_rejected_key_is_read_again_once_and_the_call_retried() -> None:
    rejected = PaddleAuthenticationError(403, "invalid_token", "")
    paddle = FakePaddle([rejected, session_result()])
    api_key = FakeSecret(API_KEY, rotated=ROTATED_API_KEY)

    portal.open_portal_session(deps(paddle, api_key), PortalRequest(CUSTOMER_ID, PortalView()), within())

    assert [key for key, _ in paddle.calls] == [API_KEY, ROTATED_API_KEY]
    assert api_key.refreshes == 1


def test_a_key_rejected_again_after_the_re_read_is_a_configuration_error() -> None:
    paddle = FakePaddle([PaddleAuthenticationError(403, "invalid_token", "")])

    with pytest.raises(ConfigurationError):
        portal.open_portal_session(deps(paddle), PortalRequest(CUSTOMER_ID, PortalView()), within())


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        pytest.param(PaddleNotFoundError(404, "entity_not_found", ""), CustomerNotFoundError, id="404"),
        pytest.param(PaddleRateLimitError(429, "too_many_requests", "", retry_after=7), RateLimitedError, id="429"),
        pytest.param(PaddleAPIError(500, "internal_error", ""), UpstreamError, id="500"),
        pytest.param(KeyError("a bug"), InternalError, id="bug"),
    ],
)
def test_paddles_failures_become_public_errors(failure: Exception, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        portal.open_portal_session(deps(FakePaddle([failure])), PortalRequest(CUSTOMER_ID, PortalView()), within())

    assert "a bug" not in str(raised.value)


def test_a_minted_link_opens_what_it_names_when_followed() -> None:
    environment = deps(FakePaddle(), link_base_url="https://billing.example.com")
    spec = LinkSpec(CUSTOMER_ID, "cancel_subscription", SUBSCRIPTION_ID, 3600)

    minted = portal.mint_signed_link(environment, spec, within(), None, "req-1")
    query = [tuple(pair.split("=", 1)) for pair in minted["data"]["url"].split("?", 1)[1].split("&")]

    assert minted["data"]["url"].startswith("https://billing.example.com/links/portal?")
    assert portal.follow_signed_link(environment, query) == PortalRequest(  # type: ignore[arg-type]
        CUSTOMER_ID, PortalView((SUBSCRIPTION_ID,), "cancel_subscription", SUBSCRIPTION_ID)
    )
    later = replace(environment, clock=lambda: NOW + 3600 + 60)
    with pytest.raises(LinkInvalidError):
        portal.follow_signed_link(later, query)  # type: ignore[arg-type]


def test_a_link_without_a_public_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        portal.mint_signed_link(deps(FakePaddle()), LinkSpec(CUSTOMER_ID, "overview", None, 3600), within(), None, "r")


@pytest.mark.parametrize("action", ["cancel_subscription", "update_subscription_payment_method"])
def test_a_subscription_page_needs_its_subscription(action: Any) -> None:
    with pytest.raises(InvalidRequestError):
        PortalView.page(action, None)
    with pytest.raises(InvalidRequestError):
        LinkSpec(CUSTOMER_ID, action, None, 3600)
