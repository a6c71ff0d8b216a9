"""A page on an origin the API does not allow (CORS_ALLOWED_ORIGINS) cannot read the API's answers: the same page and
config.json served from a second 127.0.0.1 port. Cognito still signs the user in there (its endpoint answers every
origin, as Cognito's does), but every call to the API fails in the browser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from local.demo_page import DemoPage
from local.portal_standin import PortalStandIn
from local.server import CLAIM_USER, GatewayServer
from tests.browser.journeys import alert, expect, manage_billing, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Calls a script on the page could make, each answered by the API with a body worth reading.
PROBE = """async (api) => {
    const tries = {
        "simple-get": [api + "/portal", {headers: {Accept: "application/json"}}],
        "preflighted-post": [api + "/portal-links", {method: "POST", headers: {Authorization: "Bearer x",
                                                    "Content-Type": "application/json"}, body: "{}"}],
        "signed-link": [api + "/links/portal?v=1", {headers: {Accept: "application/json"}}],
    };
    const results = {};
    for (const [name, [url, init]] of Object.entries(tries)) {
        try { results[name] = `read ${(await fetch(url, init)).status}`; }
        catch (error) { results[name] = `${error.name}: ${error.message}`; }
    }
    return results;
}"""


@pytest.fixture
def foreign_page(api: GatewayServer) -> Iterator[DemoPage]:
    assert api.demo_page is not None
    page = DemoPage(dict(api.demo_page.config)).start("foreign-page")
    yield page
    page.stop()


def test_a_page_from_an_origin_not_allowed_cannot_read_the_api(
    page: Page, api: GatewayServer, portal: PortalStandIn, calls: list[dict[str, Any]], foreign_page: DemoPage
) -> None:
    # Given the page served from an origin CORS_ALLOWED_ORIGINS does not list, and a user signed in there
    assert api.cors is not None
    assert not api.cors.allows(foreign_page.origin)
    page.goto(f"{foreign_page.url}/")
    sign_in(page, CLAIM_USER.email)
    expect(page.get_by_text(f"Signed in as {CLAIM_USER.email}")).to_be_visible()

    # When they click Manage billing, and when a script on the page calls the API directly
    manage_billing(page)
    probed = page.evaluate(PROBE, api.url)

    # Then fetch rejects every time: the page reads no answer, and the preflighted POST never reaches the function
    expect(alert(page)).to_contain_text("Could not reach the billing service")
    assert probed == dict.fromkeys(["simple-get", "preflighted-post", "signed-link"], "TypeError: Failed to fetch")
    # Simple requests are sent (CORS hides the answer, it does not stop the request): only the GETs got through
    assert [event["routeKey"] for event in calls] == ["GET /links/portal"]  # /portal: 401 at the gateway
    assert portal.visits() == []


def test_the_allowed_origin_reads_the_same_answers(page: Page, api: GatewayServer) -> None:
    assert api.demo_page is not None
    page.goto(f"{api.demo_page.url}/")

    assert page.evaluate(PROBE, api.url) == {
        "simple-get": "read 401",
        "preflighted-post": "read 401",
        "signed-link": "read 403",
    }
