"""A signed-in user who tampers with the page cannot open another customer's portal. The claim user (customer
SAMPLE_CUSTOMER_ID) goes after the email user's customer, which Paddle knows: whatever they change (the request body,
the route, the token, the link the API answered), the API refuses, the page shows it, Paddle is never asked for the
other customer, and no portal opens."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import pytest

from local.cognito import CUSTOMER_ATTRIBUTE
from local.portal_standin import PortalStandIn
from local.server import CLAIM_USER, EMAIL_CUSTOMER_ID, SAMPLE_CUSTOMER_ID, GatewayServer
from tests.browser.journeys import alert, expect, id_token_of, manage_billing, sign_in_as

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

OTHER = EMAIL_CUSTOMER_ID


@pytest.fixture(autouse=True)
def other_customer_untouched(api: GatewayServer, portal: PortalStandIn) -> Any:
    yield
    assert api.paddle_fake is not None
    assert [r for r in api.paddle_fake.requests if OTHER in r.path or OTHER.encode() in r.body] == []
    assert [v for v in portal.visits() if v.customer_id != SAMPLE_CUSTOMER_ID] == []


def swap_body(route: Route) -> None:  # devtools' "edit and resend", an extension, a proxy
    route.continue_(post_data=json.dumps({"customer_id": OTHER, "action": "overview"}))


def swap_token(route: Route) -> None:
    """The page's token swapped for one naming the other customer, its signature kept."""
    head, payload, signature = route.request.headers["authorization"].removeprefix("Bearer ").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))) | {CUSTOMER_ATTRIBUTE: OTHER}
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    route.continue_(headers={**route.request.headers, "authorization": f"Bearer {head}.{forged}.{signature}"})


def swap_link(route: Route) -> None:  # the API's answer edited before the page reads it
    answer = route.fetch()
    body = answer.json()
    body["data"]["url"] = body["data"]["url"].replace(f"c={SAMPLE_CUSTOMER_ID}", f"c={OTHER}")
    route.fulfill(response=answer, json=body)


@pytest.mark.parametrize(
    ("tamper", "says", "routes"),
    [
        pytest.param(swap_body, "HTTP 400, invalid_field", ["POST /portal-links"], id="body-names-a-customer"),
        pytest.param(swap_token, "Sign in again. [HTTP 401]", [], id="claim-edited"),  # the JWT authorizer's 401
        pytest.param(swap_link, "This link cannot be opened", ["POST /portal-links", "GET /links/portal"],
                     id="link-edited"),  # its signature no longer holds
    ],
)  # fmt: skip
def test_tampering_with_the_page_opens_no_other_portal_and_says_why(
    page: Page, api: GatewayServer, portal: PortalStandIn, calls: list[dict[str, Any]], tamper: Any, says: str,
    routes: list[str],
) -> None:  # fmt: skip
    sign_in_as(page, api, CLAIM_USER)

    page.route("**/portal-links", tamper)
    manage_billing(page)

    expect(page.get_by_role("heading", name=says) if tamper is swap_link else alert(page)).to_contain_text(says)
    if tamper is swap_token:  # refused by the gateway: the page signs the user out
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert ([event["routeKey"] for event in calls], portal.visits()) == (routes, [])


def test_the_users_token_opens_no_route_for_another_customer(
    page: Page, api: GatewayServer, calls: list[dict[str, Any]]
) -> None:
    sign_in_as(page, api, CLAIM_USER)
    token = id_token_of(page)

    # When the user calls, from the page, every route that names a customer, and the JWT routes with one added
    answers = page.evaluate(
        """async ({api, token, other}) => {
            const bearer = {Authorization: `Bearer ${token}`, Accept: "application/json"};
            const json = {...bearer, "Content-Type": "application/json"};
            const tries = {
                "iam-link": [`/customers/${other}/portal-links`, {method: "POST", headers: json, body: "{}"}],
                "iam-session": [`/customers/${other}/portal-sessions`, {method: "POST", headers: json, body: "{}"}],
                "iam-portal": [`/customers/${other}/portal`, {headers: bearer}],
                "jwt-portal-query": [`/portal?customer_id=${other}`, {headers: bearer}],
                "jwt-session-body": [`/portal-sessions`,
                                     {method: "POST", headers: json, body: JSON.stringify({customer_id: other})}],
            };
            const answers = {};
            for (const [name, [path, init]] of Object.entries(tries)) {
                const answer = await fetch(api + path, init);
                answers[name] = [answer.status, await answer.text()];
            }
            return answers;
        }""",
        {"api": api.url, "token": token, "other": OTHER},
    )

    # Then the gateway refuses the IAM routes (no SigV4) and the function the JWT routes' extra input
    assert {name: status for name, (status, _) in answers.items()} == {
        "iam-link": 403, "iam-session": 403, "iam-portal": 403, "jwt-portal-query": 400, "jwt-session-body": 400,
    }  # fmt: skip
    assert all("url" not in text and "customer-portal" not in text for _, text in answers.values())
    assert sorted(event["routeKey"] for event in calls) == ["GET /portal", "POST /portal-sessions"]
