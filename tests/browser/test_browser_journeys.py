"""A signed-in person opens their billing portal from examples/web/, or reads why not.

The real local run (`local.server.serve`): Cognito's sign-in, the gateway's JWT authorizer and CORS, the function,
the signed link's 302 by navigation, and the Paddle fake whose links the portal stand-in traces to their customer.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from local.cognito import DemoUser
from local.portal_standin import PortalStandIn
from local.server import (
    CLAIM_USER,
    EMAIL_CUSTOMER_ID,
    EMAIL_USER,
    SAMPLE_CUSTOMER_ID,
    UNVERIFIED_USER,
    GatewayServer,
)
from tests.browser.journeys import alert, expect, manage_billing, on_portal, open_demo_page, sign_in, sign_in_as

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page


def routes(calls: list[dict[str, Any]]) -> list[str]:
    return [event["routeKey"] for event in calls]


@pytest.mark.parametrize(
    ("customer_lookup", "user", "customer_id"),
    [
        pytest.param("claim", CLAIM_USER, SAMPLE_CUSTOMER_ID, id="claim-user"),
        pytest.param("verified_email", EMAIL_USER, EMAIL_CUSTOMER_ID, id="verified-email-user"),
    ],
)
def test_sign_in_then_manage_billing_lands_on_the_users_own_portal(
    page: Page,
    api: GatewayServer,
    portal: PortalStandIn,
    calls: list[dict[str, Any]],
    user: DemoUser,
    customer_id: str,
) -> None:
    # Given a signed-in user on the demo page
    open_demo_page(page, api)
    sign_in_as(page, user)

    # When they click Manage billing
    manage_billing(page)

    # Then the browser ends on Paddle's portal, on a session of their own customer, reached by navigation
    on_portal(page)
    (visit,) = portal.visits()
    assert (visit.customer_id, visit.query["action"]) == (customer_id, "overview")
    assert visit.url == page.url
    assert routes(calls) == ["POST /portal-links", "GET /links/portal"]
    assert api.paddle_fake is not None
    sessions = [r.path for r in api.paddle_fake.requests if r.path.endswith("/portal-sessions")]
    assert sessions == [f"/customers/{customer_id}/portal-sessions"]
    expect(page.get_by_text(customer_id)).to_be_visible()


def test_tokens_stay_in_memory_and_the_id_token_is_what_the_api_gets(
    page: Page, context: BrowserContext, api: GatewayServer
) -> None:
    open_demo_page(page, api)
    page_url = page.url

    # When the claim user signs in (the page reads Cognito's answer; so do we)
    with page.expect_response(lambda r: r.request.headers.get("x-amz-target", "").endswith("InitiateAuth")) as signed:
        sign_in_as(page, CLAIM_USER)
    tokens = signed.value.json()["AuthenticationResult"]
    id_token = tokens["IdToken"]

    # Then no token is anywhere a script, the history or a server could find it later
    found = page.evaluate(
        """(token) => ({
            storage: localStorage.length + sessionStorage.length,
            cookie: document.cookie,
            url: location.href,
            inGlobals: Object.keys(window).some((k) => { try { return String(window[k]).includes(token); }
                                                         catch { return false; } }),
            inDocument: document.documentElement.outerHTML.includes(token),
            password: document.getElementById("password").value,
        })""",
        id_token,
    )
    assert found == {
        "storage": 0,
        "cookie": "",
        "url": page_url,
        "inGlobals": False,
        "inDocument": False,
        "password": "",
    }
    assert context.cookies() == []

    # And Manage billing sends the ID token (not the access token), an empty JSON body, as a CORS fetch
    with page.expect_request("**/portal-links") as sent:
        manage_billing(page)
    headers = sent.value.all_headers()
    assert headers["authorization"] == f"Bearer {id_token}" != f"Bearer {tokens['AccessToken']}"
    assert (sent.value.method, headers["content-type"], sent.value.post_data) == ("POST", "application/json", "{}")
    assert headers["origin"] == page_url.rstrip("/")
    on_portal(page)


@pytest.mark.parametrize(
    ("customer_lookup", "user"),
    [
        pytest.param("claim", UNVERIFIED_USER, id="unverified-user-claim"),
        pytest.param("verified_email", UNVERIFIED_USER, id="unverified-user-verified-email"),
        pytest.param("claim", EMAIL_USER, id="email-user-without-the-claim"),
    ],
)
def test_a_user_without_a_billing_account_reads_why(
    page: Page, api: GatewayServer, portal: PortalStandIn, calls: list[dict[str, Any]], user: DemoUser
) -> None:
    open_demo_page(page, api)
    sign_in_as(page, user)

    manage_billing(page)

    expect(alert(page)).to_contain_text("Your account is not linked to a billing account")
    expect(alert(page)).to_contain_text("HTTP 403, forbidden, reference ")
    expect(page.get_by_role("button", name="Manage billing")).to_be_enabled()  # they may try again later
    assert routes(calls) == ["POST /portal-links"]
    assert portal.visits() == []
    assert api.paddle_fake is not None
    assert not [r for r in api.paddle_fake.requests if r.path.endswith("/portal-sessions")]


@pytest.mark.parametrize("customer_lookup", ["verified_email"])
def test_no_paddle_customer_with_the_verified_email_reads_not_found(
    page: Page, api: GatewayServer, portal: PortalStandIn
) -> None:
    assert api.paddle_fake is not None
    api.paddle_fake.customers.clear()  # Paddle has no customer with this email (yet)
    open_demo_page(page, api)
    sign_in_as(page, EMAIL_USER)

    manage_billing(page)

    expect(alert(page)).to_contain_text("No billing account was found for your account.")
    expect(alert(page)).to_contain_text("HTTP 404, not_found")
    assert portal.visits() == []


def test_a_customer_paddle_does_not_know_ends_on_a_readable_error_page(
    page: Page, api: GatewayServer, portal: PortalStandIn
) -> None:
    # Given a link minted for the claim, whose customer Paddle no longer knows (checked only when the link is followed)
    assert api.paddle_fake is not None
    api.paddle_fake.unknown_customers.add(SAMPLE_CUSTOMER_ID)
    open_demo_page(page, api)
    sign_in_as(page, CLAIM_USER)

    with page.expect_navigation() as navigation:
        manage_billing(page)

    response = navigation.value
    assert response is not None
    assert (response.status, response.headers["content-type"]) == (404, "text/html; charset=utf-8")
    expect(page.get_by_role("heading", name="This link cannot be opened")).to_be_visible()
    expect(page.get_by_text("Ask for a new link where you got this one.")).to_be_visible()
    assert portal.visits() == []


def test_a_wrong_password_reads_as_such(page: Page, api: GatewayServer, calls: list[dict[str, Any]]) -> None:
    open_demo_page(page, api)

    sign_in(page, CLAIM_USER.email, "not-the-password")

    expect(alert(page)).to_have_text("Incorrect email or password.")
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
    expect(page.get_by_role("button", name="Manage billing")).to_be_hidden()
    assert calls == []


def test_an_expired_sign_in_asks_to_sign_in_again_without_calling_the_api(
    page: Page, api: GatewayServer, calls: list[dict[str, Any]]
) -> None:
    page.clock.install()  # the page's clock, not the token's: Cognito's ID tokens live 1 hour
    open_demo_page(page, api)
    sign_in_as(page, CLAIM_USER)

    page.clock.fast_forward("01:00:00")
    manage_billing(page)

    expect(alert(page)).to_have_text("Your sign-in has expired. Sign in again.")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert calls == []


def test_a_page_without_its_settings_says_so(page: Page, api: GatewayServer) -> None:
    assert api.demo_page is not None
    api.demo_page.config = {"cognito": api.demo_page.config["cognito"]}  # no apiUrl

    page.goto(f"{api.demo_page.url}/")

    expect(alert(page)).to_contain_text("This page is not configured: config.json needs apiUrl")
    expect(page.get_by_role("button", name="Sign in")).to_be_disabled()


def test_the_demo_page_is_served_with_its_config_on_its_own_origin(page: Page, api: GatewayServer) -> None:
    assert api.demo_page is not None
    assert api.user_pool is not None
    assert api.cors is not None
    pool = api.user_pool
    open_demo_page(page, api)

    config = json.loads(page.evaluate("fetch('config.json').then((r) => r.text())"))

    assert config == {
        "apiUrl": api.url,
        "cognito": {"region": "us-east-1", "endpoint": f"{pool.endpoint}/", "clientId": pool.client_id},
    }
    assert api.demo_page.origin != api.url.rstrip("/")
    localhost = api.demo_page.origin.replace("://127.0.0.1:", "://localhost:")
    assert api.cors.allow_origins == (api.demo_page.origin, localhost)  # the page's origin, however it is opened
