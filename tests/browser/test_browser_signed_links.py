"""A signed link from an email, opened in a browser that never signed in, lands on the customer's portal; an expired
or altered one shows a readable page; one that meets Paddle's limit says the portal is busy and gets there by itself."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from itertools import chain, repeat
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
import urllib3

from local import server as local
from local.portal_standin import PortalStandIn
from paddle_portal.signed_links import SigningKeys, claims_for, link_url
from tests.browser.journeys import expect, on_portal
from tests.support import OTHER_CUSTOMER_ID, sigv4_headers

if TYPE_CHECKING:
    from playwright.sync_api import Page

CUSTOMER, SUBSCRIPTION = local.SAMPLE_CUSTOMER_ID, local.SAMPLE_SUBSCRIPTION_ID


def mint(api: local.GatewayServer, body: dict[str, Any]) -> str:
    """What a backend does before sending the email: the IAM route, SigV4-signed with the local credentials."""
    url, data = f"{api.url}/customers/{local.SAMPLE_CUSTOMER_ID}/portal-links", json.dumps(body).encode()
    headers = sigv4_headers("POST", url, data, local.SAMPLE_ACCESS_KEY, local.SAMPLE_SECRET_KEY)
    answer = urllib3.request("POST", url, body=data, headers=headers)
    assert answer.status == 201
    return str(answer.json()["data"]["url"])


def signed_now(api: local.GatewayServer, lifetime: int = 600, minted_ago: int = 0) -> str:
    """A link signed as the function signs it (the local run's fake key), minted `minted_ago` seconds ago."""
    claims = claims_for(local.SAMPLE_CUSTOMER_ID, "overview", None, lifetime, time.time() - minted_ago)
    return link_url(api.url, claims, SigningKeys.parse(json.dumps(local.FAKE_LINK_KEYS)))


@pytest.mark.parametrize(
    ("make_link", "action"),
    [
        pytest.param(lambda api: mint(api, {"action": "cancel_subscription", "subscription_id": SUBSCRIPTION}),
                     "cancel_subscription", id="minted-deep-link"),
        pytest.param(lambda api: local.sample_link(os.environ), "overview", id="banner-sample"),
    ],
)  # fmt: skip
def test_an_emailed_link_lands_on_the_customers_portal_in_a_fresh_browser(
    page: Page, api: local.GatewayServer, portal: PortalStandIn, make_link: Callable[[local.GatewayServer], str],
    action: str,
) -> None:  # fmt: skip
    page.goto(make_link(api))  # the recipient opens it, in a browser that never signed in

    on_portal(page, portal, local.SAMPLE_CUSTOMER_ID, action)  # the 302 took it to a fresh session at the deep link


def unknown_customer(api: local.GatewayServer) -> str:
    """A link whose customer Paddle no longer knows (checked only when the link is followed)."""
    assert api.paddle_fake is not None
    api.paddle_fake.unknown_customers.add(local.SAMPLE_CUSTOMER_ID)
    return signed_now(api)


@pytest.mark.parametrize(
    ("make_link", "status", "heading", "detail"),
    [
        pytest.param(lambda api: signed_now(api, 60, minted_ago=3600), 403, "This link has expired",
                     "This link has expired.", id="expired"),
        pytest.param(lambda api: signed_now(api).replace(f"c={CUSTOMER}", f"c={OTHER_CUSTOMER_ID}"), 403,
                     "This link cannot be opened", "This link is not valid.", id="customer-altered"),
        pytest.param(unknown_customer, 404, "This link cannot be opened", "", id="customer-unknown-to-paddle"),
    ],
)  # fmt: skip
def test_an_expired_altered_or_dead_link_shows_a_readable_page(
    page: Page, api: local.GatewayServer, portal: PortalStandIn, make_link: Callable[[local.GatewayServer], str],
    status: int, heading: str, detail: str,
) -> None:  # fmt: skip
    response = page.goto(make_link(api))

    assert response is not None
    assert (response.status, response.headers["content-type"]) == (status, "text/html; charset=utf-8")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    for text in filter(None, (detail, "Ask for a new link where you got this one.")):
        expect(page.get_by_text(text)).to_be_visible()
    assert portal.visits() == []
    assert api.paddle_fake is not None
    assert len(api.paddle_fake.requests) == (status == 404)  # a refused link never reaches Paddle


def test_a_link_that_meets_paddles_limit_is_busy_not_broken_and_lands_by_itself(
    page: Page, api: local.GatewayServer, portal: PortalStandIn
) -> None:
    # Given Paddle refusing the function's three attempts at the next session (429, its limit), then answering again
    assert api.paddle_fake is not None
    api.paddle_fake.rate_limit = SimpleNamespace(take=chain([False] * 3, repeat(True)).__next__)  # as the fake asks

    page.goto(mint(api, {}))

    # Then the page says the portal is busy and the link is fine (never "ask for a new link")
    expect(page.get_by_role("heading", name="The billing portal is busy")).to_be_visible()
    expect(page.get_by_text("Your link is fine")).to_be_visible()
    expect(page.get_by_text("new link")).to_have_count(0)
    # and it tries again by itself, landing on the customer's portal without the recipient doing anything
    on_portal(page, portal, local.SAMPLE_CUSTOMER_ID)
