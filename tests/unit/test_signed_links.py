"""Signed portal links: round trip, every tampering refused, expiry boundary, key rotation."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

import pytest

from paddle_portal.errors import ConfigurationError, LinkInvalidError
from paddle_portal.signed_links import (
    CLOCK_SKEW_SECONDS,
    MAX_LIFETIME_SECONDS,
    LinkClaims,
    SigningKeys,
    sign,
    verify,
)
from tests.support import API_KEY, CUSTOMER_ID, OTHER_CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, PORTAL_TOKEN, SUBSCRIPTION_ID

NOW = 1_800_000_000
KEY_A = "A" * 20 + "-fake-signing-key-aaaaaaaaaaaaaaa"  # 53 base64url characters
KEY_B = "B" * 20 + "_fake_signing_key_bbbbbbbbbbbbbbb"


def keys(active: str = "k1", **extra: str) -> SigningKeys:
    return SigningKeys.parse(json.dumps({"active": active, "k1": KEY_A, **extra}))


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


def replaced(link: str, name: str, value: str) -> list[tuple[str, str]]:
    return [(k, value if k == name else v) for k, v in query(link)]


def test_round_trip_returns_the_signed_claims():
    link = sign(claims(), keys())

    assert verify(query(link), keys(), NOW) == claims()


def test_overview_link_without_subscription_round_trips():
    original = claims(action="overview", subscription_id=None)

    assert verify(query(sign(original, keys())), keys(), NOW) == original


def test_link_carries_no_paddle_token_or_api_key():
    link = sign(claims(), keys())

    assert "pga_" not in link
    assert PORTAL_TOKEN not in link
    assert API_KEY not in link


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("c", OTHER_CUSTOMER_ID, id="other-customer"),
        pytest.param("a", "update_subscription_payment_method", id="other-action"),
        pytest.param("a", "overview", id="downgraded-action"),
        pytest.param("s", OTHER_SUBSCRIPTION_ID, id="other-subscription"),
        pytest.param("e", str(NOW + 7200), id="expiry-moved"),
        pytest.param("v", "2", id="other-version"),
    ],
)
def test_every_field_is_covered_by_the_signature(field, value):
    tampered = replaced(sign(claims(), keys()), field, value)

    with pytest.raises(LinkInvalidError):
        verify(tampered, keys(), NOW)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda q: [(k, v[:-1] if k == "sig" else v) for k, v in q], id="signature-truncated"),
        pytest.param(lambda q: [(k, v.upper() if k == "sig" else v) for k, v in q], id="signature-case-changed"),
        pytest.param(lambda q: [(k, v) for k, v in q if k != "sig"], id="signature-missing"),
        pytest.param(lambda q: [*q, ("sig", dict(q)["sig"])], id="duplicate-parameter"),
        pytest.param(lambda q: [*q, ("customer_id", OTHER_CUSTOMER_ID)], id="extra-parameter"),
        pytest.param(lambda q: [(k, v + "=" if k == "sig" else v) for k, v in q], id="signature-padded"),
        pytest.param(lambda q: [(k, " " + v if k == "c" else v) for k, v in q], id="whitespace-in-customer"),
        pytest.param(lambda q: [(k, "\uff10" + v[1:] if k == "e" else v) for k, v in q], id="unicode-digit-expiry"),
        pytest.param(lambda q: [(k, v.upper() if k == "c" else v) for k, v in q], id="customer-case-changed"),
        pytest.param(lambda q: [(k, "k2" if k == "k" else v) for k, v in q], id="key-id-swapped"),
    ],
)
def test_tampering_is_refused(mutate):
    rotated = keys(k2=KEY_B)

    with pytest.raises(LinkInvalidError):
        verify(mutate(query(sign(claims(), keys()))), rotated, NOW)


def test_expiry_boundary():
    link = query(sign(claims(expires_at=NOW), keys()))

    assert verify(link, keys(), NOW + CLOCK_SKEW_SECONDS - 1).expires_at == NOW
    with pytest.raises(LinkInvalidError) as refused:
        verify(link, keys(), NOW + CLOCK_SKEW_SECONDS)
    assert refused.value.code == "link_expired"


def test_expiry_beyond_the_maximum_lifetime_is_refused_even_when_signed():
    link = query(sign(claims(expires_at=NOW + MAX_LIFETIME_SECONDS + 3600), keys()))

    with pytest.raises(LinkInvalidError):
        verify(link, keys(), NOW)


def test_rotation_old_key_verifies_until_removed():
    # Given a link signed with k1, then k2 becomes the active key
    old_link = query(sign(claims(), keys()))
    rotated = keys(active="k2", k2=KEY_B)

    # Then the old link still verifies, new links use k2, and removing k1 revokes the old link
    assert verify(old_link, rotated, NOW) == claims()
    assert dict(query(sign(claims(), rotated)))["k"] == "k2"
    only_k2 = SigningKeys.parse(json.dumps({"active": "k2", "k2": KEY_B}))
    with pytest.raises(LinkInvalidError):
        verify(old_link, only_k2, NOW)


def test_same_signature_under_other_key_id_is_refused():
    # A key id is part of the signed text: a link cannot be replayed under another id holding the same key.
    same_key_twice = keys(k2=KEY_A)
    link = replaced(sign(claims(), same_key_twice), "k", "k2")

    with pytest.raises(LinkInvalidError):
        verify(link, same_key_twice, NOW)


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
