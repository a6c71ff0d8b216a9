"""Signed portal links: who can mint one for whom, and what following one can (not) be bent into.

`POST /customers/{customer_id}/portal-links` (IAM) and the direct `create_portal_link` operation mint a link; the
unauthenticated `GET /links/portal` follows it. The link is a bearer credential: its HMAC is the only thing that
says which customer, action and subscription it opens, and until when. Every forged, altered, expired or
over-long link is refused before Paddle is called and without reading the Paddle API key.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from paddle_portal.errors import ConfigurationError, InvalidRequestError
from tests.events import (
    FORMATS,
    OTHER_SIGNING_SECRET,
    SIGNING_SECRET,
    claims_with,
    route_event,
    set_identity,
    signed_query,
    with_query,
)
from tests.integration.checks import body_of
from tests.security.cases import customers_called
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID

GATEWAY_BASE = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
THIRTY_DAYS = 30 * 24 * 3600


def _follow(query: str, fmt: str = "http_api", accept: str = "text/html") -> dict[str, Any]:
    event = with_query(route_event(fmt, "link_follow"), query)
    headers = event.get("headers") or {}
    event["headers"] = {**{k: v for k, v in headers.items() if k.lower() != "accept"}, "accept": accept}
    event["multiValueHeaders"] = None
    return event


def _replace(query: str, **fields: str | None) -> str:
    """The query with some fields replaced (or dropped with None), order kept."""
    pairs = [(name, fields.get(name, value)) for name, value in parse_qsl(query, keep_blank_values=True)]
    return urlencode([(name, value) for name, value in pairs if value is not None])


def _refused_link(response: dict[str, Any], code: str, paddle: Any, aws: Any) -> None:
    assert response["statusCode"] == 403, response["body"]
    assert "Location" not in response["headers"]
    assert response["headers"]["Cache-Control"] == "no-store"
    if response["headers"]["Content-Type"].startswith("application/json"):
        assert body_of(response)["error"]["code"] == code
    else:  # a person in a browser gets a small page, no scripts
        assert response["headers"]["Content-Security-Policy"] == "default-src 'none'"
        assert "<script" not in response["body"].lower()
    assert paddle.requests == []
    assert aws.api_key_reads == 0


# --- Following: only a genuine, unexpired link opens anything, and exactly what it names. ---

GENUINE = signed_query(CUSTOMER_ID, "cancel_subscription", SUBSCRIPTION_ID)


def _signature() -> str:
    return dict(parse_qsl(GENUINE))["sig"]


def _future(seconds: int) -> str:
    return str(int(time.time()) + seconds)


TAMPERED: dict[str, Any] = {
    "other-customer": lambda: _replace(GENUINE, c=OTHER_CUSTOMER_ID),
    "other-action": lambda: _replace(GENUINE, a="update_subscription_payment_method"),
    "overview-instead": lambda: _replace(GENUINE, a="overview", s=""),
    "other-subscription": lambda: _replace(GENUINE, s=OTHER_SUBSCRIPTION_ID),
    "later-expiry": lambda: _replace(GENUINE, e=_future(7 * 24 * 3600)),
    "other-known-key-id": lambda: _replace(GENUINE, k="k0"),
    "unknown-key-id": lambda: _replace(GENUINE, k="k9"),
    "signature-one-char-off": lambda: _replace(
        GENUINE, sig=_signature()[:-1] + ("B" if _signature()[-1] == "A" else "A")
    ),
    "signature-truncated": lambda: _replace(GENUINE, sig=_signature()[:-2]),
    "signature-empty": lambda: _replace(GENUINE, sig=""),
    "signature-upper-case": lambda: _replace(GENUINE, sig=_signature().upper()),
    "signed-with-another-secret": lambda: signed_query(
        CUSTOMER_ID, "cancel_subscription", SUBSCRIPTION_ID, secret=OTHER_SIGNING_SECRET
    ),
    "version-2": lambda: _replace(GENUINE, v="2"),
    "missing-signature": lambda: _replace(GENUINE, sig=None),
    "missing-customer": lambda: _replace(GENUINE, c=None),
    "missing-expiry": lambda: _replace(GENUINE, e=None),
    "missing-key-id": lambda: _replace(GENUINE, k=None),
    "missing-version": lambda: _replace(GENUINE, v=None),
    "duplicate-customer-after": lambda: GENUINE + f"&c={OTHER_CUSTOMER_ID}",
    "duplicate-customer-before": lambda: f"c={OTHER_CUSTOMER_ID}&" + GENUINE,
    "extra-customer-id": lambda: GENUINE + f"&customer_id={OTHER_CUSTOMER_ID}",
    "extra-action": lambda: GENUINE + "&action=overview",
    "customer-with-newline": lambda: _replace(GENUINE, c=CUSTOMER_ID + "\n"),
    "lookalike-customer": lambda: _replace(GENUINE, c=CUSTOMER_ID.replace("c", "\u0441", 1)),
    "lifetime-over-30-days": lambda: signed_query(expires_in=THIRTY_DAYS + 3600),
    "empty-query": lambda: "",
}


@pytest.mark.parametrize("accept", ["text/html", "application/json"], ids=["browser", "program"])
@pytest.mark.parametrize("make", list(TAMPERED.values()), ids=list(TAMPERED))
def test_altered_or_forged_link_opens_nothing(make: Any, accept: str, invoke: Any, paddle_any: Any, aws: Any) -> None:
    response = invoke(_follow(make(), accept=accept))

    _refused_link(response, "invalid_link", paddle_any, aws)


def test_expired_link_opens_nothing(invoke: Any, paddle_any: Any, aws: Any) -> None:
    response = invoke(_follow(signed_query(expires_in=-60), accept="application/json"))

    _refused_link(response, "link_expired", paddle_any, aws)


@pytest.mark.parametrize("fmt", FORMATS)
def test_genuine_link_opens_exactly_what_it_names(fmt: str, invoke: Any, paddle_any: Any, aws: Any) -> None:
    response = invoke(_follow(signed_query(OTHER_CUSTOMER_ID, "cancel_subscription", SUBSCRIPTION_ID), fmt))

    assert response["statusCode"] == 302, response["body"]
    location = response["headers"]["Location"]
    assert "action=cancel_subscription" in location
    assert f"subscription_id={SUBSCRIPTION_ID}" in location
    assert customers_called(paddle_any) == [OTHER_CUSTOMER_ID]
    assert paddle_any.sent_json() == {"subscription_ids": [SUBSCRIPTION_ID]}


def test_link_signed_with_a_retired_but_kept_key_still_opens(invoke: Any, paddle_any: Any, aws: Any) -> None:
    # Key rotation: links signed before "active" moved on stay valid while their key is kept in the secret
    retired = json.dumps({"active": "k0", "k0": json.loads(SIGNING_SECRET)["k0"]})

    response = invoke(_follow(signed_query(secret=retired)))

    assert response["statusCode"] == 302, response["body"]
    assert customers_called(paddle_any) == [CUSTOMER_ID]


@pytest.mark.parametrize(
    "identity",
    [("jwt", claims_with(CUSTOMER_ID)), ("iam", None), ("none", None)],
    ids=["jwt-of-another-customer", "iam", "anonymous"],
)
def test_the_link_not_the_caller_decides_the_customer(identity: Any, invoke: Any, paddle_any: Any, aws: Any) -> None:
    # Given a link for OTHER_CUSTOMER_ID followed by a caller who is (or names) CUSTOMER_ID
    event = set_identity(_follow(signed_query(OTHER_CUSTOMER_ID)), *identity)
    event["pathParameters"] = {"customer_id": CUSTOMER_ID}
    event["body"] = json.dumps({"customer_id": CUSTOMER_ID})

    response = invoke(event)

    # Then the link's customer, and only theirs: a link is a bearer credential, like the portal link it opens
    assert response["statusCode"] == 302
    assert customers_called(paddle_any) == [OTHER_CUSTOMER_ID]


def test_following_takes_no_other_method(invoke: Any, paddle_any: Any, aws: Any) -> None:
    event = _follow(GENUINE)
    event["requestContext"]["http"]["method"] = "POST"
    event["routeKey"] = event["requestContext"]["routeKey"] = "$default"

    response = invoke(event)

    assert response["statusCode"] == 404
    assert paddle_any.requests == []


# --- Minting: IAM callers (and direct invokers) only, for the customer in the path, for at most 30 days. ---


def _mint(body: Any, fmt: str = "http_api", customer_id: str = CUSTOMER_ID) -> dict[str, Any]:
    event = set_identity(route_event(fmt, "link_mint"), "iam")
    event = json.loads(json.dumps(event).replace(CUSTOMER_ID, customer_id))
    event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
    return event


def _minted_fields(response: dict[str, Any]) -> dict[str, str]:
    assert response["statusCode"] == 201, response["body"]
    return dict(parse_qsl(urlsplit(body_of(response)["data"]["url"]).query))


@pytest.mark.parametrize(
    "body",
    [
        {"customer_id": OTHER_CUSTOMER_ID},
        {"action": "overview", "c": OTHER_CUSTOMER_ID},
        {"expires_in": THIRTY_DAYS + 1},
        {"expires_in": 59},
        {"expires_in": "3600"},
        {"action": "cancel_subscription"},
        {"action": "overview", "subscription_id": "sub_bad"},
        [OTHER_CUSTOMER_ID],
    ],
    ids=[
        "customer-in-body",
        "c-in-body",
        "over-30-days",
        "under-a-minute",
        "lifetime-as-text",
        "deep-link-without-subscription",
        "bad-subscription",
        "not-an-object",
    ],
)
def test_mint_body_cannot_name_a_customer_or_stretch_the_lifetime(
    body: Any, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    response = invoke(_mint(body))

    assert response["statusCode"] == 400, response["body"]
    assert body_of(response)["error"]["code"] in {"invalid_field", "invalid_json"}
    assert aws.get_secret_value == 0


def test_minted_link_is_for_the_path_customer_and_opens_only_that(invoke: Any, paddle_any: Any, aws: Any) -> None:
    # Given an IAM caller mints a deep link for OTHER_CUSTOMER_ID's subscription
    minted = _minted_fields(
        invoke(
            _mint({"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID}, customer_id=OTHER_CUSTOMER_ID)
        )
    )
    assert (minted["c"], minted["a"], minted["s"]) == (OTHER_CUSTOMER_ID, "cancel_subscription", SUBSCRIPTION_ID)
    assert int(minted["e"]) <= time.time() + 24 * 3600 + 5  # the default lifetime: a day
    query = urlencode(minted)

    # When it is followed as minted, and with its customer swapped
    followed = invoke(_follow(query))
    swapped = invoke(_follow(_replace(query, c=CUSTOMER_ID)))

    # Then the first opens OTHER_CUSTOMER_ID's deep link, the second nothing
    assert followed["statusCode"] == 302
    assert swapped["statusCode"] == 403
    assert customers_called(paddle_any) == [OTHER_CUSTOMER_ID]


@pytest.mark.parametrize("fmt", FORMATS)
def test_minted_link_points_at_the_gateway_never_at_a_client_chosen_host(
    fmt: str, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    # Given a caller who spoofs every header a proxy might read a host from
    event = _mint({"action": "overview"}, fmt)
    spoofed = {
        "host": "evil.test",
        "x-forwarded-host": "evil.test",
        "forwarded": "host=evil.test",
        "x-original-host": "evil.test",
    }
    event["headers"] = {**(event.get("headers") or {}), **spoofed}

    response = invoke(event)

    # Then the link is on the API's own domain, as API Gateway (not the client) names it
    url = body_of(response)["data"]["url"]
    host = urlsplit(url).hostname
    assert host is not None
    assert host.endswith((".amazonaws.com", ".on.aws")), url
    assert "evil" not in url


def test_minted_link_on_a_custom_domain_needs_the_configured_base_url(
    invoke: Any, paddle_any: Any, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a custom domain (whose base path the event does not reveal) and no PORTAL_LINK_BASE_URL
    event = _mint({"action": "overview"})
    event["requestContext"]["domainName"] = "evil.test"

    refused = invoke(event)
    monkeypatch.setenv("PORTAL_LINK_BASE_URL", "https://billing.example.com/portal-api")
    from paddle_portal import operations
    from paddle_portal.settings import clear_settings_cache

    clear_settings_cache()
    operations.dependencies_for.cache_clear()
    minted = invoke(event)

    # Then no link is made on the event's domain; with the setting, the link is on the configured URL
    assert refused["statusCode"] == 500
    assert body_of(refused)["error"]["code"] == "configuration_error"
    assert body_of(minted)["data"]["url"].startswith("https://billing.example.com/portal-api/links/portal?")


def test_direct_invokers_mint_for_the_payload_customer(
    invoke: Any, paddle_any: Any, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_LINK_BASE_URL", "https://billing.example.com")

    result = invoke({"operation": "create_portal_link", "customer_id": OTHER_CUSTOMER_ID})

    fields = dict(parse_qsl(urlsplit(result["data"]["url"]).query))
    assert fields["c"] == OTHER_CUSTOMER_ID
    assert paddle_any.requests == []


@pytest.mark.parametrize(
    "payload",
    [
        {"operation": "create_portal_link", "customer_id": CUSTOMER_ID, "expires_in": THIRTY_DAYS + 1},
        {"operation": "create_portal_link", "customer_id": CUSTOMER_ID, "url": "https://evil.test"},
        {"operation": "create_portal_link", "customer_id": "cus_123"},
        {"operation": "create_portal_links", "customer_id": CUSTOMER_ID},
    ],
    ids=["over-30-days", "base-url-in-payload", "bad-customer", "unknown-operation"],
)
def test_direct_mint_payload_is_strict(
    payload: dict[str, Any], invoke: Any, paddle_any: Any, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_LINK_BASE_URL", "https://billing.example.com")

    with pytest.raises(InvalidRequestError):
        invoke(payload)

    assert aws.get_secret_value == 0


def test_direct_mint_without_a_base_url_is_a_configuration_error(invoke: Any, paddle_any: Any, aws: Any) -> None:
    with pytest.raises(ConfigurationError):
        invoke({"operation": "create_portal_link", "customer_id": CUSTOMER_ID})
