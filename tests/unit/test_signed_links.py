"""`signed_links`: a link round-trips to exactly what it was signed for; anything else is refused with one answer
(`invalid_link`), a genuine but expired link with `link_expired`; the signing secret and the links' base URL
(`PORTAL_LINK_BASE_URL`) are parsed strictly. Through the handler: tests/integration/test_signed_links_handler.py and
tests/security/test_signed_link_security.py."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest

from paddle_portal.errors import ConfigurationError, LinkInvalidError
from paddle_portal.settings import settings_from_env
from paddle_portal.signed_links import CLOCK_SKEW_SECONDS, LinkClaims, SigningKeys, sign, verify
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SECRET_ID, SUBSCRIPTION_ID

NOW, HOUR, THIRTY_DAYS = 1_800_000_001, 3600, 30 * 24 * 3600  # NOW: the deep link's signature holds a "-"
KEY, KEY_0, OTHER_KEY = "FAKEsigningKEYk1" + "0" * 48, "FAKEsigningKEYk0" + "1" * 48, "FAKEotherKEYk1xx" + "2" * 48
KEYS = SigningKeys.parse(json.dumps({"active": "k1", "k1": KEY, "k0": KEY_0}))
DEEP_LINK = LinkClaims(CUSTOMER_ID, "cancel_subscription", SUBSCRIPTION_ID, NOW + HOUR)


def link(claims: LinkClaims = DEEP_LINK, keys: SigningKeys = KEYS) -> str:
    return sign(claims, keys)


def opened(query: str, now: float = NOW, keys: SigningKeys = KEYS) -> LinkClaims:
    return verify(parse_qsl(query, keep_blank_values=True), keys, now)


def replaced(query: str = "", **fields: str | None) -> str:
    """The deep link's query with some fields replaced (None: dropped), order kept."""
    pairs = [(name, fields.get(name, value)) for name, value in parse_qsl(query or link(), keep_blank_values=True)]
    return urlencode([(name, value) for name, value in pairs if value is not None])


def raw(name: str, text: str) -> str:
    """The deep link's query with one field's raw (already encoded) text replaced."""
    return "&".join(f"{name}={text}" if part.startswith(f"{name}=") else part for part in link().split("&"))


def test_a_link_names_what_it_opens_in_a_plain_query():
    query = link()

    assert [name for name, _ in parse_qsl(query)] == ["v", "c", "a", "s", "e", "k", "sig"]
    assert query == urlencode(parse_qsl(query))
    assert opened(query) == DEEP_LINK
    overview = LinkClaims(CUSTOMER_ID, "overview", None, NOW + HOUR)
    assert opened(link(overview)) == overview


def test_equivalent_percent_encoding_is_the_same_link():
    # A mail client that re-encodes `_` or `-` does not break the link: the signature covers the decoded values.
    assert opened(link().replace("_", "%5F").replace("-", "%2D")) == DEEP_LINK


SIG = dict(parse_qsl(link()))["sig"]
OTHER_SIG = dict(parse_qsl(link(LinkClaims(CUSTOMER_ID, "overview", None, NOW + HOUR))))["sig"]
SAME_KEY_TWICE = SigningKeys.parse(json.dumps({"active": "k1", "k1": KEY, "k2": KEY}))
FORGED = {
    "other-customer": replaced(c=OTHER_CUSTOMER_ID),
    "other-action": replaced(a="update_subscription_payment_method"),
    "overview-instead": replaced(a="overview", s=""),
    "other-subscription": replaced(s=OTHER_SUBSCRIPTION_ID),
    "deep-link-without-subscription": link(LinkClaims(CUSTOMER_ID, "cancel_subscription", None, NOW + HOUR)),
    "later-expiry": replaced(e=str(NOW + HOUR + 7 * 24 * 3600)),
    "earlier-expiry": replaced(e=str(NOW + HOUR - 60)),
    "version-2": replaced(v="2"),
    "other-known-key-id": replaced(k="k0"),
    "unknown-key-id": replaced(k="k9"),
    "signed-with-another-secret": link(keys=SigningKeys.parse(json.dumps({"active": "k1", "k1": OTHER_KEY}))),
    "same-key-under-another-id": replaced(link(keys=SAME_KEY_TWICE), k="k2"),
    "lifetime-over-30-days": link(LinkClaims(CUSTOMER_ID, "overview", None, NOW + THIRTY_DAYS + 2 * HOUR)),
    "signature-one-char-off": replaced(sig=SIG[:-1] + ("B" if SIG[-1] == "A" else "A")),
    "signature-truncated": replaced(sig=SIG[:-2]),
    "signature-padded": replaced(sig=SIG + "="),
    "signature-standard-base64": replaced(sig=SIG.replace("-", "+").replace("_", "/")),
    "signature-of-another-link": replaced(sig=OTHER_SIG),
    "missing-signature": replaced(sig=None),
    "missing-expiry": replaced(e=None),
    "missing-version": replaced(v=None),
    "customer-twice-after": link() + f"&c={OTHER_CUSTOMER_ID}",
    "customer-twice-before": f"c={OTHER_CUSTOMER_ID}&" + link(),
    "signature-twice": link() + f"&sig={SIG}",
    "extra-customer_id": link() + f"&customer_id={OTHER_CUSTOMER_ID}",
    "empty-query": "",
    "customer-with-newline": replaced(c=CUSTOMER_ID + "\n"),
    "lookalike-customer": replaced(c=CUSTOMER_ID.replace("c", "\u0441", 1)),
    "newline-shifts-subscription-into-action": raw("a", quote(f"cancel_subscription\n{SUBSCRIPTION_ID}")),
    "nul-after-customer": raw("c", f"{CUSTOMER_ID}%00"),
    "space-as-plus-in-customer": raw("c", f"+{CUSTOMER_ID}"),
    "double-encoded-underscore": raw("c", CUSTOMER_ID.replace("_", "%255F")),
    "fullwidth-digit-in-expiry": replaced(e="\uff11" + str(NOW + HOUR)[1:]),
    "leading-zero-in-expiry": replaced(e="0" + str(NOW + HOUR)),
    "semicolon-separators": link().replace("&", ";"),
    "parameter-name-case": link().replace("sig=", "SIG="),
}


@pytest.mark.parametrize("query", list(FORGED.values()), ids=list(FORGED))
def test_an_altered_or_forged_link_is_invalid(query):
    assert query != link()
    with pytest.raises(LinkInvalidError) as raised:
        opened(query, keys=SAME_KEY_TWICE if "k=k2" in query else KEYS)

    assert (raised.value.code, raised.value.detail) == ("invalid_link", "This link is not valid.")


THIRTY_DAY_LINK = link(LinkClaims(CUSTOMER_ID, "overview", None, NOW + THIRTY_DAYS))
SKEW = CLOCK_SKEW_SECONDS
# A link is good until its expiry plus a few seconds (clock steps between Lambda hosts), and never claims more than 30
# days from the clock that checks it (beyond, even a genuine signature is refused: a leaked key cannot outlive the cap).
CHECKED_AT = {
    "a-second-before-expiry": (link(), NOW + HOUR - 1, None),
    "at-expiry": (link(), NOW + HOUR, None),
    "within-the-skew-allowance": (link(), NOW + HOUR + SKEW - 1, None),
    "skew-allowance-over": (link(), NOW + HOUR + SKEW, "link_expired"),
    "a-day-later": (link(), NOW + HOUR + 24 * HOUR, "link_expired"),
    "expired-and-altered-says-only-invalid": (replaced(c=OTHER_CUSTOMER_ID), NOW + 2 * HOUR, "invalid_link"),
    "30-day-link-same-clock": (THIRTY_DAY_LINK, NOW, None),
    "30-day-link-clock-behind-by-the-allowance": (THIRTY_DAY_LINK, NOW - SKEW, None),
    "30-day-link-clock-further-behind": (THIRTY_DAY_LINK, NOW - SKEW - 1, "invalid_link"),
}


@pytest.mark.parametrize(("query", "now", "code"), list(CHECKED_AT.values()), ids=list(CHECKED_AT))
def test_a_genuine_link_opens_until_it_expires(query, now, code):
    if code is None:
        assert opened(query, now).customer_id == CUSTOMER_ID
    else:
        with pytest.raises(LinkInvalidError) as raised:
            opened(query, now)
        assert raised.value.code == code
        assert raised.value.detail == (
            "This link has expired." if code == "link_expired" else "This link is not valid."
        )


@pytest.mark.parametrize(
    "secret",
    [
        "not json",
        json.dumps({"k1": KEY}),
        json.dumps({"active": "k9", "k1": KEY}),
        json.dumps({"active": "k1", "k1": "c2hvcnQ"}),
        json.dumps({"active": "k 1", "k 1": KEY}),
        json.dumps({"active": "k1", "k1": KEY + "!"}),
        json.dumps({"api_key": "pdl_sdbx_apikey_FAKE"}),  # pragma: allowlist secret
        json.dumps(["k1", KEY]),
    ],
    ids=["not-json", "no-active", "active-unknown", "key-too-short", "bad-key-id", "not-base64url", "api-key", "list"],
)
def test_a_malformed_signing_secret_is_a_configuration_error(secret):
    with pytest.raises(ConfigurationError):
        SigningKeys.parse(secret)


BASE_URLS: dict[str, tuple[str, Any]] = {
    "https": ("https://billing.example.com/portal-api/", "https://billing.example.com/portal-api"),
    "http-loopback": ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
    "http-localhost": ("http://localhost:3000/", "http://localhost:3000"),
    "http-ipv6-loopback": ("http://[::1]:3000", "http://[::1]:3000"),
    "http-elsewhere": ("http://billing.example.com", None),
    "http-loopback-look-alike": ("http://127.0.0.1.example.com", None),
    "credentials": ("https://user:secret@billing.example.com", None),  # pragma: allowlist secret
    "space": ("https://billing example.com", None),
    "query": ("https://billing.example.com/?a=1", None),
    "bad-port": ("https://billing.example.com:99999", None),
    "other-scheme": ("ftp://billing.example.com", None),
}


@pytest.mark.parametrize(("value", "expected"), list(BASE_URLS.values()), ids=list(BASE_URLS))
def test_links_base_url_is_https_except_on_this_machine(value, expected):
    environ = {"PADDLE_API_KEY_SECRET_ID": SECRET_ID, "PORTAL_LINK_BASE_URL": value}

    if expected is None:
        with pytest.raises(ConfigurationError, match="PORTAL_LINK_BASE_URL"):
            settings_from_env(environ)
    else:
        assert settings_from_env(environ).link_base_url == expected
