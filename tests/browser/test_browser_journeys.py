"""A signed-in person opens their billing portal from examples/web/, or reads why not, as `make run`'s banner promises:
Cognito's sign-in, the gateway's JWT authorizer and CORS, the function, the signed link's 302 by navigation, and the
portal stand-in, which names the customer whose session the link opened."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from local.cognito import DemoUser
from local.demo_page import PAGE_DIR
from local.portal_standin import PortalStandIn
from local.server import CLAIM_USER, EMAIL_CUSTOMER_ID, EMAIL_USER, SAMPLE_CUSTOMER_ID, UNVERIFIED_USER, GatewayServer
from tests.browser import journeys as person

if TYPE_CHECKING:
    from playwright.sync_api import Page


def sessions(api: GatewayServer) -> list[str]:
    assert api.paddle_fake is not None
    return [r.path for r in api.paddle_fake.requests if r.path.endswith("/portal-sessions")]


@pytest.mark.parametrize(
    ("customer_lookup", "user", "customer_id", "name", "host"),
    [
        pytest.param("claim", CLAIM_USER, SAMPLE_CUSTOMER_ID, "Claire Claim", "127.0.0.1", id="claim-user"),
        pytest.param("verified_email", EMAIL_USER, EMAIL_CUSTOMER_ID, "Emil Email", "localhost", id="verified-email"),
    ],
)
def test_sign_in_then_manage_billing_lands_on_the_users_own_portal(
    page: Page, api: GatewayServer, portal: PortalStandIn, calls: list[dict[str, Any]],
    user: DemoUser, customer_id: str, name: str, host: str,
) -> None:  # fmt: skip
    # Given the banner's promise for this user, and the printed demo page (127.0.0.1 and localhost both work)
    assert f"the portal stand-in, for customer {customer_id}" in person.promises(api)[1][user.email]
    person.open_demo_page(page, api, host)
    person.sign_in(page, user.email, user.password)

    # When they click Manage billing
    person.manage_billing(page)

    # Then the browser ends on Paddle's portal (the stand-in), on a session of their own customer, reached by navigation
    person.on_portal(page, portal, customer_id)
    person.expect(page.get_by_text("It worked")).to_be_visible()
    person.expect(page.locator("dd").first).to_have_text(f"{name} ({customer_id})")
    person.expect(page.get_by_text("overview (subscriptions, payments and invoices)")).to_be_visible()
    assert [event["routeKey"] for event in calls] == ["POST /portal-links", "GET /links/portal"]
    assert sessions(api) == [f"/customers/{customer_id}/portal-sessions"]


def test_tokens_stay_in_memory_and_the_id_token_is_what_the_api_gets(
    page: Page, api: GatewayServer, portal: PortalStandIn
) -> None:
    person.open_demo_page(page, api)
    page_url = page.url

    # When the claim user signs in (the page reads Cognito's answer; so do we)
    with page.expect_response(lambda r: r.request.headers.get("x-amz-target", "").endswith("InitiateAuth")) as signed:
        person.sign_in(page, CLAIM_USER.email)
    tokens = signed.value.json()["AuthenticationResult"]
    person.expect(page.get_by_text(f"Signed in as {CLAIM_USER.email}")).to_be_visible()

    # Then no token is anywhere a script, the history or a server could find it later
    found = page.evaluate(
        """(token) => ({storage: localStorage.length + sessionStorage.length, cookie: document.cookie,
            url: location.href,
            inGlobals: Object.keys(window).some((k) => { try { return String(window[k]).includes(token); }
                                                         catch { return false; } }),
            inDocument: document.documentElement.outerHTML.includes(token),
            password: document.getElementById("password").value})""",
        tokens["IdToken"],
    )
    assert found == {"storage": 0, "cookie": "", "url": page_url, "inGlobals": False, "inDocument": False,
                     "password": ""}  # fmt: skip
    assert page.context.cookies() == []

    # And Manage billing sends the ID token (not the access token), an empty JSON body, as a CORS fetch
    with page.expect_request("**/portal-links") as sent:
        person.manage_billing(page)
    headers = sent.value.all_headers()
    assert headers["authorization"] == f"Bearer {tokens['IdToken']}" != f"Bearer {tokens['AccessToken']}"
    assert (sent.value.method, headers["content-type"], sent.value.post_data) == ("POST", "application/json", "{}")
    assert headers["origin"] == page_url.rstrip("/")
    person.on_portal(page, portal, SAMPLE_CUSTOMER_ID)


NOT_LINKED = "Your account is not linked to a billing account yet."


@pytest.mark.parametrize(
    ("customer_lookup", "user", "promise", "says"),
    [
        pytest.param("claim", UNVERIFIED_USER, "refused (403 forbidden)", [NOT_LINKED, "HTTP 403, forbidden, ref"],
                     id="unverified-user"),
        pytest.param("claim", EMAIL_USER, "refused (403 forbidden) in this mode", [NOT_LINKED, "HTTP 403, forbidden"],
                     id="email-user-claim-mode"),
        pytest.param("verified_email", EMAIL_USER, "", ["No billing account was found for your account.",
                     "HTTP 404, not_found"], id="no-paddle-customer-with-that-email"),
    ],
)  # fmt: skip
def test_a_user_without_a_billing_account_reads_why_in_a_persons_words(
    page: Page, api: GatewayServer, portal: PortalStandIn, calls: list[dict[str, Any]],
    user: DemoUser, promise: str, says: list[str],
) -> None:  # fmt: skip
    assert person.promises(api)[1][user.email].startswith(promise)
    if not promise:
        assert api.paddle_fake is not None
        api.paddle_fake.customers.clear()  # Paddle has no customer with this email (yet)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    person.sign_in_as(page, api, user)

    person.manage_billing(page)

    for text in says:
        person.expect(person.alert(page)).to_contain_text(text)
    # The developer's detail (which claim) goes to the console, not to the person
    person.expect(person.alert(page)).not_to_contain_text("custom:paddle_customer_id")
    assert promise != "refused (403 forbidden) in this mode" or any("custom:paddle_customer_id" in t for t in console)
    person.expect(page.get_by_role("button", name="Manage billing")).to_be_enabled()  # they may try again later
    assert ([event["routeKey"] for event in calls], portal.visits(), sessions(api)) == (["POST /portal-links"], [], [])


def test_sign_in_failures_read_as_such(page: Page, api: GatewayServer, calls: list[dict[str, Any]]) -> None:
    # A wrong password
    person.open_demo_page(page, api)
    person.sign_in(page, CLAIM_USER.email, "not-the-password")
    person.expect(person.alert(page)).to_have_text("Incorrect email or password.")
    person.expect(page.get_by_role("button", name="Manage billing")).to_be_hidden()
    # A sign-in older than its ID token (1 hour, by the page's clock): sign in again, without calling the API
    page.clock.install()
    person.sign_in_as(page, api, CLAIM_USER)
    page.clock.fast_forward("01:00:00")
    person.manage_billing(page)
    person.expect(person.alert(page)).to_have_text("Your sign-in has expired. Sign in again.")
    person.expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert calls == []
    # A page without its settings
    assert api.demo_page is not None
    api.demo_page.config = {"cognito": api.demo_page.config["cognito"]}  # no apiUrl
    page.reload()
    person.expect(person.alert(page)).to_contain_text("This page is not configured: config.json needs apiUrl")
    person.expect(page.get_by_role("button", name="Sign in")).to_be_disabled()


def snippet(function: str) -> str:
    """The js block of examples/web/README.md that defines `function` (offered to existing apps)."""
    [block] = [b for b in re.findall(r"```js\n(.*?)```", (PAGE_DIR / "README.md").read_text(), re.DOTALL)
               if f"async function {function}(" in b]  # fmt: skip
    return str(block)


DEEP = {"action": "update_subscription_payment_method", "subscription_id": "sub_01h04vsc0qhwtsbsxh3422wjs4"}


@pytest.mark.parametrize(
    ("function", "user", "args", "outcome"),
    [
        pytest.param("openBillingPortal", CLAIM_USER, [DEEP], DEEP["action"], id="post-portal-links-deep-link"),
        pytest.param("openPortalSession", CLAIM_USER, [], "overview", id="get-portal-json"),
        pytest.param("openBillingPortal", UNVERIFIED_USER, [], "HTTP 403, forbidden", id="post-portal-links-refused"),
        pytest.param("openPortalSession", UNVERIFIED_USER, [], "HTTP 403, forbidden", id="get-portal-json-refused"),
    ],
)
def test_the_readme_snippets_work_as_printed(
    page: Page, api: GatewayServer, portal: PortalStandIn, function: str, user: DemoUser, args: list[Any], outcome: str
) -> None:
    person.sign_in_as(page, api, user)
    token = person.id_token_of(page)

    # Run as an app would (Playwright's evaluate: the page's CSP refuses inline scripts); a failure is its message
    failure = page.evaluate(
        f"""async ([apiUrl, idToken, ...args]) => {{ {snippet(function)}
            try {{ await {function}(apiUrl, idToken, ...args); return null; }} catch (error) {{ return error.message; }}
        }}""",
        [api.url, token, *args],
    )

    if user is CLAIM_USER:
        assert failure is None
        person.on_portal(page, portal, SAMPLE_CUSTOMER_ID, outcome)
    else:
        assert "claim" in failure
        assert outcome in failure
        assert portal.visits() == []
