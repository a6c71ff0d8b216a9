"""Signed portal links against an attacker, through the real handler: following (`GET /links/portal`: the link is a
bearer credential) and minting (IAM and JWT routes, direct `create_portal_link`). Only a genuine, unexpired link opens
anything, exactly what it names, before Paddle is called and without reading the Paddle API key; a minting caller
cannot name another customer, stretch a lifetime, or choose the link's host. Every way a link can be forged is a
table in tests/unit/test_signed_links.py."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from paddle_portal.errors import InvalidRequestError
from tests.events import FORMATS, claims_with, route_event, set_identity, signed_query
from tests.integration.checks import assert_error, assert_error_page, body_of
from tests.security.cases import customers_called
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, SUBSCRIPTION_ID

A, B = CUSTOMER_ID, OTHER_CUSTOMER_ID
THIRTY_DAYS = 30 * 24 * 3600
GENUINE = signed_query(A, "cancel_subscription", SUBSCRIPTION_ID)


def follow(query: str, accept: str = "text/html") -> dict[str, Any]:
    return route_event("http_api", "link_follow", query=query, accept=accept)


def replaced(**fields: str | None) -> str:
    """The genuine link with some fields replaced (None: dropped), order kept."""
    pairs = [(name, fields.get(name, value)) for name, value in parse_qsl(GENUINE, keep_blank_values=True)]
    return urlencode([(name, value) for name, value in pairs if value is not None])


FORGED = {
    "genuine-link-opens": GENUINE,  # the control: unaltered, the link opens what it names
    "other-customer": replaced(c=B),
    "later-expiry": replaced(e=str(int(dict(parse_qsl(GENUINE))["e"]) + 7 * 24 * 3600)),
    "unknown-key-id": replaced(k="k9"),
    "lifetime-over-30-days": signed_query(expires_in=THIRTY_DAYS + 3600),
    "signature-of-another-link": replaced(sig=dict(parse_qsl(signed_query(B)))["sig"]),
    "customer-twice": GENUINE + f"&c={B}",
    "extra-customer_id": GENUINE + f"&customer_id={B}",
}


@pytest.mark.parametrize("accept", ["text/html", "application/json"], ids=["browser", "program"])
@pytest.mark.parametrize("query", list(FORGED.values()), ids=list(FORGED))
def test_altered_or_forged_link_opens_nothing(query, accept, invoke, paddle_any, aws):
    response = invoke(follow(query, accept))

    if query == GENUINE:
        assert response["statusCode"] == (200 if accept == "application/json" else 302)
        assert customers_called(paddle_any) == [A]
        assert paddle_any.sent_json() == {"subscription_ids": [SUBSCRIPTION_ID]}
    else:
        refused_link(response, "invalid_link", paddle_any, aws)


@pytest.mark.parametrize("accept", ["text/html", "application/json"], ids=["browser", "program"])
def test_expired_link_opens_nothing(accept, invoke, paddle_any, aws):
    # A genuine link says it expired (an altered one says only invalid_link)
    refused_link(invoke(follow(signed_query(expires_in=-60), accept)), "link_expired", paddle_any, aws)


def refused_link(response: dict[str, Any], code: str, paddle: Any, aws: Any) -> None:
    """Refused (403) with the one answer for `code` (a prober learns nothing about which part was wrong), as JSON for
    a program or as a page for a person, before Paddle was called and without reading the Paddle API key."""
    detail, title = {
        "invalid_link": ("This link is not valid.", "This link cannot be opened"),
        "link_expired": ("This link has expired.", "This link has expired"),
    }[code]
    if response["headers"]["Content-Type"] == "application/json":
        assert assert_error(response, 403, code, fields=False)["detail"] == detail
    else:
        page = assert_error_page(response, 403)
        assert f"<h1>{title}</h1>" in page
        assert detail in page
    assert paddle.requests == []
    assert aws.api_key_reads == 0


@pytest.mark.parametrize(
    "identity",
    [("jwt", claims_with(A)), ("iam", None), ("none", None)],
    ids=["jwt-of-another-customer", "iam", "anonymous"],
)
def test_the_link_not_the_caller_decides_the_customer(identity, invoke, paddle_any, aws):
    # Given a link for B followed by a caller who is (or names) A
    event = set_identity(follow(signed_query(B)), *identity)
    event["pathParameters"], event["body"] = {"customer_id": A}, json.dumps({"customer_id": A})

    response = invoke(event)

    # Then B's portal, and only B's: a link is a bearer credential, like the portal link it opens
    assert response["statusCode"] == 302
    assert customers_called(paddle_any) == [B]


# --- Minting: IAM callers (and direct invokers) for the customer in the path (payload), for at most 30 days;
# signed-in users (POST /portal-links) for the token's customer only, for at most 5 minutes ---


def mint(body: Any, route: str = "link_mint", fmt: str = "http_api", customer_id: str = A) -> dict[str, Any]:
    caller = "iam" if route == "link_mint" else "jwt"
    return route_event(fmt, route, caller, customer_id=customer_id, body=body)


@pytest.mark.parametrize(("route", "longest"), [("link_mint", THIRTY_DAYS), ("jwt_mint", 300)])
@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"customer_id": B}, "invalid_field", "customer_id"),
        ({"action": "overview", "c": B}, "invalid_field", "c"),
        ([B], "invalid_json", None),
        ("over-the-cap", "invalid_field", "expires_in"),
        ({"expires_in": 59}, "invalid_field", "expires_in"),
    ],
    ids=["customer-in-body", "c-in-body", "not-an-object", "over-the-cap", "under-a-minute"],
)
def test_mint_body_cannot_name_a_customer_or_stretch_the_lifetime(
    route, longest, body, code, field, invoke, paddle_any, aws
):
    body = {"expires_in": longest + 1} if body == "over-the-cap" else body

    error = assert_error(invoke(mint(body, route)), 400, code, fields=field is not None)

    assert field is None or field in {item["field"] for item in error["errors"]}
    assert B not in json.dumps(error)
    assert paddle_any.requests == []
    assert aws.get_secret_value == 0


def test_minted_link_is_for_the_path_customer_and_opens_only_that(invoke, paddle_any, aws):
    # Given an IAM caller mints a deep link for B's subscription
    answer = invoke(mint({"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID}, customer_id=B))
    link = dict(parse_qsl(urlsplit(body_of(answer)["data"]["url"]).query))
    assert (link["c"], link["a"], link["s"]) == (B, "cancel_subscription", SUBSCRIPTION_ID)

    # When it is followed as minted, and with its customer swapped
    followed = invoke(follow(urlencode(link)))
    swapped = invoke(follow(urlencode(link | {"c": A})))

    # Then the first opens B's deep link, the second nothing
    assert (followed["statusCode"], swapped["statusCode"]) == (302, 403)
    assert customers_called(paddle_any) == [B]


@pytest.mark.parametrize("fmt", FORMATS)
def test_minted_link_points_at_the_gateway_never_at_a_client_chosen_host(fmt, invoke, paddle_any, aws):
    # Given a caller who spoofs every header a proxy might read a host from
    event = mint({"action": "overview"}, fmt=fmt)
    spoofed = dict.fromkeys(("host", "x-forwarded-host", "x-original-host"), "evil.test")
    event["headers"] = {**event["headers"], **spoofed, "forwarded": "host=evil.test"}

    url = body_of(invoke(event))["data"]["url"]

    # Then the link is on the API's own domain, as API Gateway (not the client) names it
    assert (urlsplit(url).hostname or "").endswith((".amazonaws.com", ".on.aws")), url
    assert "evil" not in url


def test_minted_link_on_a_custom_domain_needs_the_configured_base_url(invoke, paddle_any, aws, monkeypatch):
    # Given a custom domain (whose base path the event does not reveal) and no PORTAL_LINK_BASE_URL
    event = mint({"action": "overview"})
    event["requestContext"]["domainName"] = "evil.test"

    # Then no link is made on the event's domain, refused before any secret is read
    assert_error(invoke(event), 500, "configuration_error")
    assert aws.get_secret_value == 0

    # And with the setting, the link is on the configured URL
    monkeypatch.setenv("PORTAL_LINK_BASE_URL", "https://billing.example.com/portal-api")
    assert body_of(invoke(event))["data"]["url"].startswith("https://billing.example.com/portal-api/links/portal?")
    assert paddle_any.requests == []


@pytest.fixture
def base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_LINK_BASE_URL", "https://billing.example.com")


@pytest.mark.usefixtures("base_url")
def test_direct_invokers_mint_for_the_payload_customer(invoke, paddle_any, aws):
    result = invoke({"operation": "create_portal_link", "customer_id": B})

    assert dict(parse_qsl(urlsplit(result["data"]["url"]).query))["c"] == B
    assert paddle_any.requests == []


@pytest.mark.usefixtures("base_url")
@pytest.mark.parametrize(
    "payload",
    [
        {"expires_in": THIRTY_DAYS + 1},
        {"url": "https://evil.test"},
        {"customer_id": [A, B]},
        {"subscription_ids": []},
        {"action": "cancel_subscription"},
    ],
    ids=["over-30-days", "base-url-in-payload", "customer-list", "session-field", "deep-link-without-subscription"],
)
def test_direct_mint_payload_is_strict(payload, invoke, paddle_any, aws):
    with pytest.raises(InvalidRequestError):
        invoke({"operation": "create_portal_link", "customer_id": A, **payload})

    assert paddle_any.requests == []
    assert aws.get_secret_value == 0
