"""A signed-in user who tampers with the page cannot open another customer's portal.

The claim user (customer SAMPLE_CUSTOMER_ID) goes after the email user's customer (EMAIL_CUSTOMER_ID), which Paddle
knows. Whatever they change (the request body, the route, the token, the link the API answered), the API refuses,
the page shows it, Paddle is never asked for the other customer, and no portal opens.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import pytest

from local.cognito import CUSTOMER_ATTRIBUTE
from local.portal_standin import PortalStandIn
from local.server import CLAIM_USER, EMAIL_CUSTOMER_ID, SAMPLE_CUSTOMER_ID, GatewayServer
from tests.browser.journeys import alert, expect, id_token_of, manage_billing, open_demo_page, sign_in_as

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

OTHER = EMAIL_CUSTOMER_ID


def assert_other_customer_untouched(api: GatewayServer, portal: PortalStandIn) -> None:
    assert api.paddle_fake is not None
    assert not [r for r in api.paddle_fake.requests if OTHER in r.path or OTHER.encode() in r.body]
    assert [v for v in portal.visits() if v.customer_id != SAMPLE_CUSTOMER_ID] == []


def signed_in(page: Page, api: GatewayServer) -> None:
    open_demo_page(page, api)
    sign_in_as(page, CLAIM_USER)


def edit_claims(token: str, header: dict[str, Any] | None = None, **claims: Any) -> str:
    """`token` with its header or claims changed in place and its signature kept (or dropped for alg none)."""

    def encode(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    head, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    new_head = encode(header) if header is not None else head
    return f"{new_head}.{encode({**decoded, **claims})}.{'' if header else signature}"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"customer_id": OTHER}, id="customer_id"),
        pytest.param({"customer_id": OTHER, "action": "overview"}, id="customer_id-with-action"),
        pytest.param({CUSTOMER_ATTRIBUTE: OTHER}, id="claim-name-as-field"),
    ],
)
def test_a_request_body_naming_another_customer_is_refused(
    page: Page, api: GatewayServer, portal: PortalStandIn, calls: list[dict[str, Any]], body: dict[str, Any]
) -> None:
    signed_in(page, api)

    # When the user rewrites the page's request body (devtools' "edit and resend", an extension, a proxy)
    page.route("**/portal-links", lambda route: route.continue_(post_data=json.dumps(body)))
    manage_billing(page)

    # Then the function refuses the body: no link, for anyone
    expect(alert(page)).to_contain_text("HTTP 400, invalid_field")
    assert [event["routeKey"] for event in calls] == ["POST /portal-links"]
    assert_other_customer_untouched(api, portal)
    assert portal.visits() == []


def test_the_users_token_opens_no_route_for_another_customer(
    page: Page, api: GatewayServer, portal: PortalStandIn, calls: list[dict[str, Any]]
) -> None:
    signed_in(page, api)
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
    statuses = {name: status for name, (status, _) in answers.items()}
    assert statuses == {
        "iam-link": 403,
        "iam-session": 403,
        "iam-portal": 403,
        "jwt-portal-query": 400,
        "jwt-session-body": 400,
    }
    assert all("url" not in text and "customer-portal" not in text for _, text in answers.values())
    assert sorted(event["routeKey"] for event in calls) == ["GET /portal", "POST /portal-sessions"]
    assert_other_customer_untouched(api, portal)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda token: edit_claims(token, **{CUSTOMER_ATTRIBUTE: OTHER}), id="claim-edited"),
        pytest.param(
            lambda token: edit_claims(token, header={"alg": "none", "typ": "JWT"}, **{CUSTOMER_ATTRIBUTE: OTHER}),
            id="claim-edited-alg-none",
        ),
        pytest.param(lambda token: edit_claims(token, email="email-user@example.com"), id="email-edited"),
    ],
)
def test_a_token_with_a_forged_claim_is_refused_by_the_gateway(
    page: Page, api: GatewayServer, portal: PortalStandIn, calls: list[dict[str, Any]], forge: Any
) -> None:
    signed_in(page, api)

    # When the token the page holds is swapped for one with another customer's claim (same signature)
    def forged(route: Route) -> None:
        token = route.request.headers["authorization"].removeprefix("Bearer ")
        route.continue_(headers={**route.request.headers, "authorization": f"Bearer {forge(token)}"})

    page.route("**/portal-links", forged)
    manage_billing(page)

    # Then API Gateway's JWT authorizer answers 401 before the function runs; the page signs the user out
    expect(alert(page)).to_contain_text("Your sign-in was not accepted")
    expect(alert(page)).to_contain_text("Sign in again. [HTTP 401]")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert calls == []
    assert_other_customer_untouched(api, portal)


def test_a_link_edited_to_name_another_customer_is_refused(
    page: Page, api: GatewayServer, portal: PortalStandIn
) -> None:
    signed_in(page, api)

    # When the API's answer is edited before the page reads it: the signed link now names the other customer
    def edit_link(route: Route) -> None:
        answer = route.fetch()
        body = answer.json()
        assert f"c={SAMPLE_CUSTOMER_ID}" in body["data"]["url"]
        body["data"]["url"] = body["data"]["url"].replace(f"c={SAMPLE_CUSTOMER_ID}", f"c={OTHER}")
        route.fulfill(response=answer, json=body)

    page.route("**/portal-links", edit_link)
    with page.expect_navigation() as navigation:
        manage_billing(page)

    # Then the link's signature no longer holds: a readable page, and no portal
    response = navigation.value
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="This link cannot be opened")).to_be_visible()
    assert portal.visits() == []
    assert_other_customer_untouched(api, portal)
