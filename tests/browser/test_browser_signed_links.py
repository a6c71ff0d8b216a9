"""A signed link from an email, opened in a browser that has never signed in, lands on the customer's portal; an
expired or altered one shows a readable page (the link route answers browsers in HTML)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.portal_standin import PortalStandIn
from local.server import (
    FAKE_LINK_KEYS,
    REGION,
    SAMPLE_ACCESS_KEY,
    SAMPLE_CUSTOMER_ID,
    SAMPLE_SECRET_KEY,
    SAMPLE_SUBSCRIPTION_ID,
    GatewayServer,
    sample_link,
)
from paddle_portal.signed_links import SigningKeys, claims_for, link_url
from tests.browser.journeys import expect, on_portal
from tests.support import OTHER_CUSTOMER_ID

if TYPE_CHECKING:
    from playwright.sync_api import Page

KEYS = SigningKeys.parse(json.dumps(FAKE_LINK_KEYS))


def mint(api: GatewayServer, body: dict[str, Any], customer_id: str = SAMPLE_CUSTOMER_ID) -> str:
    """What a backend does before sending the email: the IAM route, SigV4-signed with the local credentials."""
    url = f"{api.url}/customers/{customer_id}/portal-links"
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=url, data=data, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(SAMPLE_ACCESS_KEY, SAMPLE_SECRET_KEY), "execute-api", REGION).add_auth(request)
    answer = urllib3.request("POST", url, body=data, headers=dict(request.headers.items()))
    assert answer.status == 201
    link: str = answer.json()["data"]["url"]
    return link


def signed_now(api: GatewayServer, lifetime: int, minted_ago: int = 0) -> str:
    """A link signed as the function signs it (the local run's fake key), minted `minted_ago` seconds ago."""
    claims = claims_for(SAMPLE_CUSTOMER_ID, "overview", None, lifetime, time.time() - minted_ago)
    return link_url(api.url, claims, KEYS)


def flip_last_character(link: str) -> str:
    """The link with the last character of its signature changed."""
    return link[:-1] + ("A" if link[-1] != "A" else "B")


@pytest.mark.parametrize(
    ("make_link", "action", "subscription_id"),
    [
        pytest.param(lambda api: mint(api, {}), "overview", None, id="minted-overview"),
        pytest.param(
            lambda api: mint(api, {"action": "cancel_subscription", "subscription_id": SAMPLE_SUBSCRIPTION_ID}),
            "cancel_subscription",
            SAMPLE_SUBSCRIPTION_ID,
            id="minted-cancel-subscription",
        ),
        pytest.param(lambda api: sample_link(os.environ), "overview", None, id="banner-sample"),
    ],
)
def test_an_emailed_link_lands_on_the_customers_portal_in_a_fresh_browser(
    page: Page,
    api: GatewayServer,
    portal: PortalStandIn,
    make_link: Callable[[GatewayServer], str],
    action: str,
    subscription_id: str | None,
) -> None:
    # Given a link a backend minted for the sample customer, and a browser that never signed in
    link = make_link(api)
    assert page.context.cookies() == []

    # When the recipient opens it
    page.goto(link)

    # Then the 302 takes the browser to a fresh session of that customer's portal, at the link's deep link
    on_portal(page)
    (visit,) = portal.visits()
    assert visit.customer_id == SAMPLE_CUSTOMER_ID
    assert (visit.query["action"], visit.query.get("subscription_id")) == (action, subscription_id)


@pytest.mark.parametrize(
    ("make_link", "status", "heading", "detail"),
    [
        pytest.param(
            lambda api: signed_now(api, 60, minted_ago=3600),
            403,
            "This link has expired",
            "This link has expired.",
            id="expired",
        ),
        pytest.param(
            lambda api: flip_last_character(signed_now(api, 600)),
            403,
            "This link cannot be opened",
            "This link is not valid.",
            id="signature-altered",
        ),
        pytest.param(
            lambda api: signed_now(api, 600).replace(f"c={SAMPLE_CUSTOMER_ID}", f"c={OTHER_CUSTOMER_ID}"),
            403,
            "This link cannot be opened",
            "This link is not valid.",
            id="customer-altered",
        ),
        pytest.param(
            lambda api: signed_now(api, 600).replace("a=overview", "a=cancel_subscription"),
            403,
            "This link cannot be opened",
            "This link is not valid.",
            id="action-altered",
        ),
        pytest.param(
            lambda api: signed_now(api, 600).partition("&sig=")[0],
            403,
            "This link cannot be opened",
            "This link is not valid.",
            id="signature-removed",
        ),
    ],
)
def test_an_expired_or_altered_link_shows_a_readable_page(
    page: Page,
    api: GatewayServer,
    portal: PortalStandIn,
    make_link: Callable[[GatewayServer], str],
    status: int,
    heading: str,
    detail: str,
) -> None:
    response = page.goto(make_link(api))

    assert response is not None
    assert (response.status, response.headers["content-type"]) == (status, "text/html; charset=utf-8")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_text(detail)).to_be_visible()
    expect(page.get_by_text("Ask for a new link where you got this one.")).to_be_visible()
    assert portal.visits() == []
    assert api.paddle_fake is not None
    assert api.paddle_fake.requests == []  # refused before Paddle is asked for anything


class RefuseFirst:
    """Paddle's rate limit as the fake consults it (`take() -> bool`): the first `count` requests are refused (429,
    `Retry-After: 1`), every later one admitted."""

    def __init__(self, count: int) -> None:
        self.left = count

    def take(self) -> bool:
        self.left -= 1
        return self.left < 0


def test_a_link_that_meets_paddles_limit_is_busy_not_broken_and_lands_by_itself(
    page: Page, api: GatewayServer, portal: PortalStandIn
) -> None:
    # Given Paddle refusing the function's three attempts at the next session (its limit), then answering again
    assert api.paddle_fake is not None
    api.paddle_fake.rate_limit = RefuseFirst(3)
    link = mint(api, {})

    # When the recipient opens the link
    page.goto(link)

    # Then the page says the portal is busy and the link is fine (never "ask for a new link")
    expect(page.get_by_role("heading", name="The billing portal is busy")).to_be_visible()
    expect(page.get_by_text("Your link is fine")).to_be_visible()
    expect(page.get_by_text("new link")).to_have_count(0)
    # and it tries again by itself, landing on the customer's portal without the recipient doing anything
    on_portal(page)
    (visit,) = portal.visits()
    assert visit.customer_id == SAMPLE_CUSTOMER_ID
