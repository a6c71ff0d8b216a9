"""What a person does on examples/web/, in Playwright's terms, by the accessible names the page promises.

Playwright is imported inside the functions: without it the tier is skipped (conftest), not broken at collection.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from local.cognito import DEMO_PASSWORD, DemoUser
from local.portal_standin import HEADING
from local.server import GatewayServer

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Route

PORTAL_URL = re.compile(r"^http://127\.0\.0\.1:\d+/cpl_[a-z\d]{26}\?")  # the local run's portal stand-in


def expect(target: Any) -> Any:
    """Playwright's auto-waiting assertions."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def open_demo_page(page: Page, api: GatewayServer) -> None:
    """The page `make run` serves, ready once its config.json is loaded (Sign in is disabled until then)."""
    assert api.demo_page is not None
    page.goto(f"{api.demo_page.url}/")
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in_as(page: Page, user: DemoUser) -> None:
    sign_in(page, user.email, user.password)
    expect(page.get_by_text(f"Signed in as {user.email}")).to_be_visible()


def manage_billing(page: Page) -> None:
    page.get_by_role("button", name="Manage billing").click()


def alert(page: Page) -> Locator:
    return page.get_by_role("alert")


def on_portal(page: Page) -> None:
    """The journey ended on Paddle's portal (the local run's stand-in)."""
    page.wait_for_url(PORTAL_URL)
    expect(page.get_by_role("heading", name=HEADING)).to_be_visible()


def id_token_of(page: Page) -> str:
    """The user's own ID token, as they can read it in the developer tools (the page keeps it out of reach of other
    scripts, not of its user): taken from the page's request, which is then dropped."""
    seen: list[str] = []

    def keep(route: Route) -> None:
        seen.append(route.request.headers["authorization"].removeprefix("Bearer "))
        route.abort()

    page.route("**/portal-links", keep)
    manage_billing(page)
    expect(alert(page)).to_contain_text("Could not reach the billing service")
    page.unroute("**/portal-links")
    return seen[0]
