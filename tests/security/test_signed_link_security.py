"""Signed portal links: who can mint one for whom, and what following one can (not) be bent into.

`POST /customers/{customer_id}/portal-links` (IAM) and the direct `create_portal_link` operation mint a link; the
unauthenticated `GET /links/portal` follows it. The link is a bearer credential: its HMAC is the only thing that
says which customer, action and subscription it opens, and until when. Every forged, altered, expired or
over-long link is refused before Paddle is called and without reading the Paddle API key.

Here: the adversarial cases. The mechanics (the link's format, minting answers, lifetimes and the clock, following
to a 302, JSON or a page, key rotation) are in tests/integration/test_signed_links_handler.py; that only IAM callers
mint is in the authorization matrix (`*-link_mint-*`).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest

from paddle_portal.errors import InvalidRequestError, LinkInvalidError
from paddle_portal.signed_links import LinkClaims, SigningKeys, sign, verify
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
from tests.integration.checks import assert_error, assert_error_page, body_of
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


def _raw_replace(query: str, name: str, raw: str) -> str:
    """The query with one field's raw (already encoded) text replaced."""
    return "&".join(f"{name}={raw}" if part.startswith(f"{name}=") else part for part in query.split("&"))


# One answer for every refusal of a kind: a prober learns nothing about which part of a link was wrong.
DETAILS = {"invalid_link": "This link is not valid.", "link_expired": "This link has expired."}
TITLES = {"invalid_link": "This link cannot be opened", "link_expired": "This link has expired"}


def _refused_link(response: dict[str, Any], code: str, paddle: Any, aws: Any) -> None:
    """Refused (403) with the one answer for `code`, as JSON for a program or as a page for a person, before Paddle
    was called and without reading the Paddle API key."""
    if response["headers"].get("Content-Type", "").startswith("application/json"):
        assert assert_error(response, 403, code, fields=False)["detail"] == DETAILS[code]
    else:
        page = assert_error_page(response, 403)
        assert f"<h1>{TITLES[code]}</h1>" in page  # the heading, not only the detail below it
        assert DETAILS[code] in page
    assert paddle.requests == []
    assert aws.api_key_reads == 0


# --- Following: only a genuine, unexpired link opens anything, and exactly what it names. ---


def _genuine() -> str:
    """A genuine deep link (an hour) whose signature holds a base64url-only character (`-` or `_`), so that the
    table's alphabet row alters it: the first such expiry from now on, a few seconds at most."""
    for extra in range(200):
        query = signed_query(CUSTOMER_ID, "cancel_subscription", SUBSCRIPTION_ID, expires_in=3600 + extra)
        if {"-", "_"} & set(dict(parse_qsl(query))["sig"]):
            return query
    raise AssertionError("no signature with - or _ in 200 tries")


GENUINE = _genuine()


def _signature(query: str = GENUINE) -> str:
    return dict(parse_qsl(query))["sig"]


def _expiry_moved(seconds: int) -> str:
    return _replace(GENUINE, e=str(int(dict(parse_qsl(GENUINE))["e"]) + seconds))


TAMPERED: dict[str, Any] = {
    # Each signed field changed
    "other-customer": lambda: _replace(GENUINE, c=OTHER_CUSTOMER_ID),
    "other-action": lambda: _replace(GENUINE, a="update_subscription_payment_method"),
    "overview-instead": lambda: _replace(GENUINE, a="overview", s=""),
    "other-subscription": lambda: _replace(GENUINE, s=OTHER_SUBSCRIPTION_ID),
    "later-expiry": lambda: _expiry_moved(7 * 24 * 3600),
    "earlier-expiry": lambda: _expiry_moved(-60),
    "version-2": lambda: _replace(GENUINE, v="2"),
    # Key ids: another key we hold, one we do not; a key we never had
    "other-known-key-id": lambda: _replace(GENUINE, k="k0"),
    "unknown-key-id": lambda: _replace(GENUINE, k="k9"),
    "signed-with-another-secret": lambda: signed_query(
        CUSTOMER_ID, "cancel_subscription", SUBSCRIPTION_ID, secret=OTHER_SIGNING_SECRET
    ),
    # A genuine signature for more than the 30-day cap (a leaked key, a bug)
    "lifetime-over-30-days": lambda: signed_query(expires_in=THIRTY_DAYS + 3600),
    # The signature
    "signature-one-char-off": lambda: _replace(
        GENUINE, sig=_signature()[:-1] + ("B" if _signature()[-1] == "A" else "A")
    ),
    "signature-truncated": lambda: _replace(GENUINE, sig=_signature()[:-2]),
    "signature-half": lambda: _replace(GENUINE, sig=_signature()[:22]),
    "signature-extended": lambda: _replace(GENUINE, sig=_signature() + "A"),
    "signature-padded": lambda: _replace(GENUINE, sig=_signature() + "="),
    "signature-empty": lambda: _replace(GENUINE, sig=""),
    "signature-upper-case": lambda: _replace(GENUINE, sig=_signature().upper()),
    "signature-standard-base64": lambda: _replace(GENUINE, sig=_signature().replace("-", "+").replace("_", "/")),
    "signature-of-another-link": lambda: _replace(GENUINE, sig=_signature(signed_query())),
    # Fields missing, repeated or added
    "missing-signature": lambda: _replace(GENUINE, sig=None),
    "missing-customer": lambda: _replace(GENUINE, c=None),
    "missing-expiry": lambda: _replace(GENUINE, e=None),
    "missing-key-id": lambda: _replace(GENUINE, k=None),
    "missing-version": lambda: _replace(GENUINE, v=None),
    "duplicate-customer-after": lambda: GENUINE + f"&c={OTHER_CUSTOMER_ID}",
    "duplicate-customer-before": lambda: f"c={OTHER_CUSTOMER_ID}&" + GENUINE,
    "duplicate-signature": lambda: GENUINE + f"&sig={_signature()}",
    "extra-customer-id": lambda: GENUINE + f"&customer_id={OTHER_CUSTOMER_ID}",
    "extra-action": lambda: GENUINE + "&action=overview",
    "empty-query": lambda: "",
    # Encoding tricks
    "customer-with-newline": lambda: _replace(GENUINE, c=CUSTOMER_ID + "\n"),
    "lookalike-customer": lambda: _replace(GENUINE, c=CUSTOMER_ID.replace("c", "\u0441", 1)),
    "upper-case-customer": lambda: _replace(GENUINE, c=CUSTOMER_ID.upper()),
    "newline-shifts-subscription-into-action": lambda: _raw_replace(
        _replace(GENUINE, s=""), "a", quote(f"cancel_subscription\n{SUBSCRIPTION_ID}")
    ),
    "nul-after-customer": lambda: _raw_replace(GENUINE, "c", f"{CUSTOMER_ID}%00"),
    "space-as-plus-in-customer": lambda: _raw_replace(GENUINE, "c", f"+{CUSTOMER_ID}"),
    "double-encoded-underscore": lambda: _raw_replace(GENUINE, "c", CUSTOMER_ID.replace("_", "%255F")),
    "fullwidth-digit-in-expiry": lambda: _replace(GENUINE, e="\uff11" + dict(parse_qsl(GENUINE))["e"][1:]),
    "leading-zero-in-expiry": lambda: _replace(GENUINE, e="0" + dict(parse_qsl(GENUINE))["e"]),
    "semicolon-separators": lambda: GENUINE.replace("&", ";"),
    "parameter-name-case": lambda: GENUINE.replace("sig=", "SIG="),
}


@pytest.mark.parametrize("accept", ["text/html", "application/json"], ids=["browser", "program"])
@pytest.mark.parametrize("make", list(TAMPERED.values()), ids=list(TAMPERED))
def test_altered_or_forged_link_opens_nothing(make: Any, accept: str, invoke: Any, paddle_any: Any, aws: Any) -> None:
    tampered = make()
    assert tampered != GENUINE

    response = invoke(_follow(tampered, accept=accept))

    _refused_link(response, "invalid_link", paddle_any, aws)


def test_the_genuine_link_of_the_tampering_table_opens(invoke: Any, paddle_any: Any, aws: Any) -> None:
    """The control for the table above: unaltered, the same link opens what it names."""
    response = invoke(_follow(GENUINE))

    assert response["statusCode"] == 302, response["body"]
    assert customers_called(paddle_any) == [CUSTOMER_ID]
    assert paddle_any.sent_json() == {"subscription_ids": [SUBSCRIPTION_ID]}


@pytest.mark.parametrize("accept", ["text/html", "application/json"], ids=["browser", "program"])
def test_expired_link_opens_nothing(accept: str, invoke: Any, paddle_any: Any, aws: Any) -> None:
    # A genuine link says it expired (an altered one says only invalid_link)
    response = invoke(_follow(signed_query(expires_in=-60), accept=accept))

    _refused_link(response, "link_expired", paddle_any, aws)


def test_same_signature_under_other_key_id_is_refused() -> None:
    # A key id is part of the signed text: a link cannot be replayed under another id holding the same key.
    key = json.loads(SIGNING_SECRET)["k1"]
    same_key_twice = SigningKeys.parse(json.dumps({"active": "k1", "k1": key, "k2": key}))
    now = time.time()
    link = sign(LinkClaims(CUSTOMER_ID, "overview", None, int(now) + 3600), same_key_twice)
    replayed = [(name, "k2" if name == "k" else value) for name, value in parse_qsl(link, keep_blank_values=True)]

    with pytest.raises(LinkInvalidError):
        verify(replayed, same_key_twice, now)


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


# --- Minting: IAM callers (and direct invokers) for the customer in the path, for at most 30 days; signed-in users
# (POST /portal-links) for the token's customer only, for at most 5 minutes. ---


def _mint(body: Any, fmt: str = "http_api", customer_id: str = CUSTOMER_ID, route: str = "link_mint") -> dict[str, Any]:
    kind, claims = ("iam", None) if route == "link_mint" else ("jwt", claims_with(CUSTOMER_ID))
    event = set_identity(route_event(fmt, route), kind, claims)
    event = json.loads(json.dumps(event).replace(CUSTOMER_ID, customer_id))
    event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
    event["isBase64Encoded"] = False
    return event


def _minted_fields(response: dict[str, Any]) -> dict[str, str]:
    assert response["statusCode"] == 201, response["body"]
    return dict(parse_qsl(urlsplit(body_of(response)["data"]["url"]).query))


@pytest.mark.parametrize(("route", "longest"), [("link_mint", THIRTY_DAYS), ("jwt_mint", 300)])
@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        pytest.param({"customer_id": OTHER_CUSTOMER_ID}, "invalid_field", "customer_id", id="customer-in-body"),
        pytest.param({"action": "overview", "c": OTHER_CUSTOMER_ID}, "invalid_field", "c", id="c-in-body"),
        pytest.param([OTHER_CUSTOMER_ID], "invalid_json", None, id="not-an-object"),
        pytest.param("over-the-cap", "invalid_field", "expires_in", id="over-the-cap"),
        pytest.param({"expires_in": 59}, "invalid_field", "expires_in", id="under-a-minute"),
    ],
)
def test_mint_body_cannot_name_a_customer_or_stretch_the_lifetime(
    route: str, longest: int, body: Any, code: str, field: str | None, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    body = {"expires_in": longest + 1} if body == "over-the-cap" else body

    error = assert_error(invoke(_mint(body, route=route)), 400, code, fields=field is not None)

    if field is not None:
        assert field in {item["field"] for item in error["errors"]}
    assert OTHER_CUSTOMER_ID not in json.dumps(error)
    assert paddle_any.requests == []
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
    reads_when_refused = aws.get_secret_value
    monkeypatch.setenv("PORTAL_LINK_BASE_URL", "https://billing.example.com/portal-api")
    from paddle_portal import wiring
    from paddle_portal.settings import clear_settings_cache

    clear_settings_cache()
    wiring.dependencies_for.cache_clear()
    minted = invoke(event)

    # Then no link is made on the event's domain (refused before any secret is read); with the setting, the link is
    # on the configured URL
    assert_error(refused, 500, "configuration_error")
    assert reads_when_refused == 0
    assert body_of(minted)["data"]["url"].startswith("https://billing.example.com/portal-api/links/portal?")
    assert paddle_any.requests == []


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
        pytest.param({"customer_id": CUSTOMER_ID, "expires_in": THIRTY_DAYS + 1}, id="over-30-days"),
        pytest.param({"customer_id": CUSTOMER_ID, "expires_in": 59}, id="under-a-minute"),
        pytest.param({"customer_id": CUSTOMER_ID, "url": "https://evil.test"}, id="base-url-in-payload"),
        pytest.param({"customer_id": "cus_123"}, id="bad-customer"),
        pytest.param({"operation": "create_portal_links", "customer_id": CUSTOMER_ID}, id="unknown-operation"),
    ],
)
def test_direct_mint_payload_is_strict(
    payload: dict[str, Any], invoke: Any, paddle_any: Any, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_LINK_BASE_URL", "https://billing.example.com")

    with pytest.raises(InvalidRequestError):
        invoke({"operation": "create_portal_link", **payload})

    assert paddle_any.requests == []
    assert aws.get_secret_value == 0
