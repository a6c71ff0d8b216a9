"""`signed_links`, the pure part: a link round-trips to its claims, in a plain query string; the signing secret is
parsed strictly.

Through the handler: expiry, the clock and key rotation in tests/integration/test_signed_links_handler.py; every
tampering, foreign keys, replay and the 30-day cap in tests/security/test_signed_link_security.py."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

import pytest

from paddle_portal.errors import ConfigurationError
from paddle_portal.signed_links import LinkClaims, SigningKeys, sign, verify
from tests.support import CUSTOMER_ID, SUBSCRIPTION_ID

NOW = 1_800_000_000
KEY_A = "A" * 20 + "-fake-signing-key-aaaaaaaaaaaaaaa"  # 53 base64url characters


def keys() -> SigningKeys:
    return SigningKeys.parse(json.dumps({"active": "k1", "k1": KEY_A}))


def claims(**changes: object) -> LinkClaims:
    fields: dict[str, object] = {
        "customer_id": CUSTOMER_ID,
        "action": "cancel_subscription",
        "subscription_id": SUBSCRIPTION_ID,
        "expires_at": NOW + 3600,
    }
    fields.update(changes)
    return LinkClaims(**fields)  # type: ignore[arg-type]


def query(link: str) -> list[tuple[str, str]]:
    return parse_qsl(link, keep_blank_values=True)


def test_round_trip_returns_the_signed_claims():
    link = sign(claims(), keys())

    assert verify(query(link), keys(), NOW) == claims()


def test_overview_link_without_subscription_round_trips():
    original = claims(action="overview", subscription_id=None)

    assert verify(query(sign(original, keys())), keys(), NOW) == original


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("not json", id="not-json"),
        pytest.param(json.dumps({"k1": KEY_A}), id="no-active"),
        pytest.param(json.dumps({"active": "k9", "k1": KEY_A}), id="active-unknown"),
        pytest.param(json.dumps({"active": "k1", "k1": "c2hvcnQ"}), id="key-too-short"),
        pytest.param(json.dumps({"active": "k 1", "k 1": KEY_A}), id="bad-key-id"),
        pytest.param(json.dumps({"active": "k1", "k1": KEY_A + "!"}), id="not-base64url"),
        pytest.param(json.dumps(["k1", KEY_A]), id="not-an-object"),
    ],
)
def test_malformed_signing_secret_is_a_configuration_error(secret):
    with pytest.raises(ConfigurationError):
        SigningKeys.parse(secret)


def test_query_encoding_is_plain_urlencoded():
    link = sign(claims(), keys())

    assert link == urlencode(query(link))
