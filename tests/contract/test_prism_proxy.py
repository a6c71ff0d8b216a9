"""Prism's proxy mode, offline: Prism between our client and the local Paddle fake (`local/paddle_fake.py`).

This is the mode docs/testing.md describes for the real sandbox (`PADDLE_CONTRACT_UPSTREAM`). Here it proves, without a
network, that the mode works as those tests assume (bad requests are refused by Prism and never forwarded, good ones
reach the upstream) and, because Prism validates the upstream's answers too, that the fake's real answers on the wire
are valid Paddle answers. The last test shows that an upstream answer breaking the document is caught.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from local.paddle_fake import PaddleFake
from paddle_portal.deadline import Deadline
from paddle_portal.paddle.client import PaddleClient, new_pool
from paddle_portal.paddle.errors import PaddleAPIError, PaddleAuthenticationError, PaddleNotFoundError
from tests.contract.documents import PADDLE_DOCUMENT
from tests.contract.prism import Prism, PrismTap
from tests.support import API_KEY, CUSTOMER_ID, ROTATED_API_KEY, SUBSCRIPTION_ID

pytestmark = pytest.mark.slow  # Node processes and real sockets

UNKNOWN_CUSTOMER = "ctm_" + "0" * 26


class Proxied:
    def __init__(self, fake: PaddleFake, tap: PrismTap) -> None:
        self.fake = fake
        self.tap = tap

    def client(self) -> PaddleClient:
        return PaddleClient(new_pool(), base_url=self.tap.url)


@pytest.fixture(scope="module")
def proxied() -> Iterator[Proxied]:
    """PaddleFake <- prism proxy --errors <- tap <- our client."""
    with (
        PaddleFake(API_KEY, sandbox=True, unknown_customers={UNKNOWN_CUSTOMER}) as fake,
        tempfile.TemporaryFile() as log,
    ):
        prism = Prism(PADDLE_DOCUMENT, log, upstream=fake.url).start()
        tap = PrismTap(prism.url).start()
        try:
            yield Proxied(fake, tap)
        finally:
            tap.stop()
            prism.stop()


@pytest.fixture
def proxy(proxied: Proxied) -> Proxied:
    proxied.tap.reset()
    return proxied


@pytest.mark.parametrize("ids", [[], [SUBSCRIPTION_ID], [f"sub_d{n:025d}" for n in range(25)]], ids=["0", "1", "25"])
def test_good_requests_reach_paddle_and_its_answers_pass_prisms_check(proxy: Proxied, ids: list[str]) -> None:
    before = len(proxy.fake.requests)

    result = proxy.client().create_portal_session(API_KEY, CUSTOMER_ID, ids, Deadline.within(10))

    assert [(e.status, e.violations) for e in proxy.tap.exchanges] == [(201, [])]  # request and answer valid
    assert len(proxy.fake.requests) == before + 1
    assert [sub["id"] for sub in result.data["urls"]["subscriptions"]] == ids


@pytest.mark.parametrize(
    ("customer_id", "key", "error", "status"),
    [
        pytest.param(UNKNOWN_CUSTOMER, API_KEY, PaddleNotFoundError, 404, id="not-found"),
        pytest.param(CUSTOMER_ID, ROTATED_API_KEY, PaddleAuthenticationError, 403, id="key-rejected"),
    ],
)
def test_paddle_error_answers_pass_prisms_check(
    proxy: Proxied, customer_id: str, key: str, error: type[PaddleAPIError], status: int
) -> None:
    with pytest.raises(error):
        proxy.client().create_portal_session(key, customer_id, [], Deadline.within(10))

    assert [(e.status, e.violations) for e in proxy.tap.exchanges] == [(status, [])]


def test_bad_requests_are_refused_by_prism_and_never_forwarded(proxy: Proxied) -> None:
    before = len(proxy.fake.requests)

    with pytest.raises(PaddleAPIError) as raised:
        proxy.client().create_portal_session(API_KEY, CUSTOMER_ID, [SUBSCRIPTION_ID] * 2, Deadline.within(10))

    assert raised.value.status == 422
    assert [[v["code"] for v in e.violations] for e in proxy.tap.exchanges] == [["uniqueItems"]]
    assert len(proxy.fake.requests) == before


def test_an_answer_that_breaks_paddles_document_is_caught(httpserver: HTTPServer) -> None:
    """A Paddle (or fake) whose 201 lacks `created_at` and has a malformed id: Prism answers 500 with the
    violations instead, so a contract test against it fails."""
    bad: dict[str, Any] = {"data": {"id": "cpls_short", "urls": {"general": {"overview": "https://x"}}}, "meta": {}}
    httpserver.expect_request(f"/customers/{CUSTOMER_ID}/portal-sessions", method="POST").respond_with_json(
        bad, status=201
    )
    with tempfile.TemporaryFile() as log:
        prism = Prism(PADDLE_DOCUMENT, log, upstream=httpserver.url_for("").rstrip("/")).start()
        tap = PrismTap(prism.url).start()
        try:
            with pytest.raises(PaddleAPIError) as raised:
                PaddleClient(new_pool(), base_url=tap.url).create_portal_session(
                    API_KEY, CUSTOMER_ID, [], Deadline.within(10)
                )
        finally:
            tap.stop()
            prism.stop()

    assert raised.value.status == 500
    assert {e.status for e in tap.exchanges} == {500}  # our client retried the 5xx, as it should
    assert {(tuple(v["location"][:2]), v["code"]) for v in tap.exchanges[0].violations} >= {
        (("response", "body"), "required"),
        (("response", "body"), "pattern"),
    }
