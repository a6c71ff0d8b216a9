"""What a person does on examples/web/, in Playwright's terms, by the accessible names the page promises. Playwright
is imported inside the functions: without it the tier is skipped (conftest), not broken at collection."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from local.cognito import DEMO_PASSWORD, DemoUser
from local.portal_standin import HEADING, PortalStandIn
from local.server import GatewayServer, banner

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Route

PORTAL_URL = re.compile(r"^http://127\.0\.0\.1:\d+/cpl_[a-z\d]{26}\?")  # the local run's portal stand-in


def expect(target: Any) -> Any:
    """Playwright's auto-waiting assertions."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def promises(api: GatewayServer) -> tuple[str, dict[str, str]]:
    """What the banner prints: the demo page's URL, and what each demo user will see, by email."""
    text = banner(api, os.environ)
    [page_url] = re.findall(r"^demo page: (\S+)", text, re.M)
    return page_url, dict(re.findall(r"^demo user: (\S+) \S+ (.*)$", text, re.M))


def open_demo_page(page: Page, api: GatewayServer, host: str = "127.0.0.1") -> None:
    """The printed demo page, as this host; ready once its config.json is loaded (Sign in is disabled until then)."""
    page.goto(promises(api)[0].replace("://127.0.0.1:", f"://{host}:"))
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in_as(page: Page, api: GatewayServer, user: DemoUser) -> None:
    open_demo_page(page, api)
    sign_in(page, user.email, user.password)
    expect(page.get_by_text(f"Signed in as {user.email}")).to_be_visible()


def manage_billing(page: Page) -> None:
    page.get_by_role("button", name="Manage billing").click()


def alert(page: Page) -> Locator:
    return page.get_by_role("alert")


def on_portal(page: Page, portal: PortalStandIn, customer_id: str, action: str = "overview") -> None:
    """The journey ended on Paddle's portal (the local run's stand-in), once, in a session of that customer."""
    page.wait_for_url(PORTAL_URL)
    expect(page.get_by_role("heading", name=HEADING)).to_be_visible()
    [visit] = portal.visits()
    assert (visit.customer_id, visit.query["action"], visit.url) == (customer_id, action, page.url)


def id_token_of(page: Page) -> str:
    """The user's own ID token, as they can read it in the developer tools (the page keeps it from other scripts, not
    from its user): taken from the page's request, which is then dropped."""
    seen: list[str] = []

    def keep(route: Route) -> None:
        seen.append(route.request.headers["authorization"].removeprefix("Bearer "))
        route.abort()

    page.route("**/portal-links", keep)
    manage_billing(page)
    expect(alert(page)).to_contain_text("Could not reach the billing service")
    page.unroute("**/portal-links")
    return seen[0]
