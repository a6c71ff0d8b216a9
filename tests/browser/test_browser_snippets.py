"""The snippets examples/web/README.md offers to existing apps work as printed, in a page of an allowed origin."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from local.demo_page import PAGE_DIR
from local.portal_standin import PortalStandIn
from local.server import CLAIM_USER, SAMPLE_CUSTOMER_ID, UNVERIFIED_USER, GatewayServer
from tests.browser.journeys import id_token_of, on_portal, open_demo_page, sign_in_as

if TYPE_CHECKING:
    from playwright.sync_api import Page

README = PAGE_DIR / "README.md"


def snippet(function: str) -> str:
    """The README's js block that defines `function`."""
    blocks = re.findall(r"```js\n(.*?)```", README.read_text(), re.DOTALL)
    (block,) = [b for b in blocks if f"async function {function}(" in b]
    return str(block)


def call(page: Page, function: str, api: GatewayServer, token: str, *args: Any) -> Any:
    """Run the README's snippet as an app would (Playwright's evaluate: the page's CSP refuses inline scripts);
    the navigation it starts is awaited by the caller. A failure comes back as its message."""
    return page.evaluate(
        f"""async ([apiUrl, idToken, ...args]) => {{
            {snippet(function)}
            try {{ await {function}(apiUrl, idToken, ...args); return null; }}
            catch (error) {{ return error.message; }}
        }}""",
        [api.url, token, *args],
    )


@pytest.mark.parametrize(
    ("function", "args", "action"),
    [
        pytest.param("openBillingPortal", [], "overview", id="post-portal-links"),
        pytest.param(
            "openBillingPortal",
            [{"action": "update_subscription_payment_method", "subscription_id": "sub_01h04vsc0qhwtsbsxh3422wjs4"}],
            "update_subscription_payment_method",
            id="post-portal-links-deep-link",
        ),
        pytest.param("openPortalSession", [], "overview", id="get-portal-json"),
    ],
)
def test_the_readme_snippets_open_the_signed_in_users_portal(
    page: Page, api: GatewayServer, portal: PortalStandIn, function: str, args: list[Any], action: str
) -> None:
    open_demo_page(page, api)
    sign_in_as(page, CLAIM_USER)
    token = id_token_of(page)

    with page.expect_navigation():
        assert call(page, function, api, token, *args) is None

    on_portal(page)
    (visit,) = portal.visits()
    assert (visit.customer_id, visit.query["action"]) == (SAMPLE_CUSTOMER_ID, action)


@pytest.mark.parametrize("function", ["openBillingPortal", "openPortalSession"])
def test_the_readme_snippets_fail_with_a_readable_message(
    page: Page, api: GatewayServer, portal: PortalStandIn, function: str
) -> None:
    open_demo_page(page, api)
    sign_in_as(page, UNVERIFIED_USER)
    token = id_token_of(page)

    message = call(page, function, api, token)

    assert "claim" in message
    assert "HTTP 403, forbidden" in message
    assert portal.visits() == []
