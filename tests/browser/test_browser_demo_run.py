"""`make run`'s demo, as a newcomer meets it: the banner's demo page, its demo users, and where each journey ends.

The banner is the promise: each `demo user:` line says what that user will see. Here Chromium opens the printed demo
page (as 127.0.0.1 and as localhost: both name this machine), signs each user in and clicks Manage billing; the
journey must end where the line said: on the local portal stand-in page naming the user's customer, or on a refusal
in a person's words (the developer's detail is in the console and the API's answer, not on the page).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

import pytest

from local.portal_standin import HEADING, PortalStandIn
from local.server import CLAIM_USER, EMAIL_CUSTOMER_ID, EMAIL_USER, SAMPLE_CUSTOMER_ID, GatewayServer, banner
from tests.browser.journeys import alert, expect, manage_billing, on_portal, sign_in_as

if TYPE_CHECKING:
    from playwright.sync_api import Page

PAGE_HOSTS = ["127.0.0.1", "localhost"]


def banner_lines(api: GatewayServer) -> tuple[str, dict[str, str]]:
    """The printed demo page URL, and what each demo user will see, by email."""
    text = banner(api, os.environ)
    page_url = re.search(r"^demo page: (\S+)", text, re.M)
    assert page_url is not None, text
    users = dict(re.findall(r"^demo user: (\S+) \S+ (.*)$", text, re.M))
    return page_url.group(1), users


def open_printed_page(page: Page, api: GatewayServer, host: str) -> str:
    printed, _ = banner_lines(api)
    url = printed.replace("://127.0.0.1:", f"://{host}:")
    page.goto(url)
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
    return url


def assert_on_standin_for(page: Page, portal: PortalStandIn, customer_id: str) -> None:
    on_portal(page)
    expect(page.get_by_role("heading", name=HEADING)).to_be_visible()
    expect(page.get_by_text("It worked")).to_be_visible()
    expect(page.locator("dd").first).to_contain_text(customer_id)  # the customer the session was for
    expect(page.get_by_text("overview (subscriptions, payments and invoices)")).to_be_visible()
    (visit,) = portal.visits()
    assert visit.customer_id == customer_id
    assert visit.query["action"] == "overview"


@pytest.mark.parametrize("host", PAGE_HOSTS)
def test_the_claim_user_ends_on_the_portal_stand_in_naming_their_customer(
    page: Page, api: GatewayServer, portal: PortalStandIn, host: str
) -> None:
    # Given the banner's promise for the claim user
    _, seen = banner_lines(api)
    assert f"the portal stand-in, for customer {SAMPLE_CUSTOMER_ID}" in seen[CLAIM_USER.email]

    # When they sign in on the printed demo page (opened as this host) and click Manage billing
    open_printed_page(page, api, host)
    sign_in_as(page, CLAIM_USER)
    manage_billing(page)

    # Then the journey ends on the stand-in's page, naming their customer
    assert_on_standin_for(page, portal, SAMPLE_CUSTOMER_ID)
    expect(page.get_by_text("Claire Claim")).to_be_visible()


@pytest.mark.parametrize("host", PAGE_HOSTS)
def test_in_the_default_mode_the_email_user_reads_why_in_a_persons_words(
    page: Page, api: GatewayServer, portal: PortalStandIn, host: str
) -> None:
    # Given the banner says why this user is refused in this mode, and how to switch
    _, seen = banner_lines(api)
    assert seen[EMAIL_USER.email].startswith("refused (403 forbidden) in this mode")
    assert "CUSTOMER_LOOKUP=verified_email make run" in seen[EMAIL_USER.email]
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text))

    open_printed_page(page, api, host)
    sign_in_as(page, EMAIL_USER)
    manage_billing(page)

    # Then the page says what a person can do; the developer's detail is in the console, not on the page
    expect(alert(page)).to_contain_text("Your account is not linked to a billing account yet.")
    expect(alert(page)).not_to_contain_text("custom:paddle_customer_id")
    assert any("custom:paddle_customer_id" in text for text in warnings), warnings
    assert portal.visits() == []


@pytest.mark.parametrize("customer_lookup", ["verified_email"])
@pytest.mark.parametrize("host", PAGE_HOSTS)
def test_in_verified_email_mode_the_email_user_ends_on_their_portal(
    page: Page, api: GatewayServer, portal: PortalStandIn, host: str
) -> None:
    _, seen = banner_lines(api)
    assert f"the portal stand-in, for customer {EMAIL_CUSTOMER_ID}" in seen[EMAIL_USER.email]

    open_printed_page(page, api, host)
    sign_in_as(page, EMAIL_USER)
    manage_billing(page)

    assert_on_standin_for(page, portal, EMAIL_CUSTOMER_ID)
    expect(page.get_by_text("Emil Email")).to_be_visible()
