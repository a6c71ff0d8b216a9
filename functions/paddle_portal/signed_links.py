"""Email-safe portal links: a signed, expiring link that mints a fresh Paddle session when it is followed.

The link names what it does (customer, action, subscription) and until when, and carries an HMAC-SHA256 over a
canonical, versioned encoding of exactly those fields plus the signing key's id. It never carries a Paddle token
or our API key; following it creates a new Paddle session at click time. Pure: no I/O and no clock of its own (the
caller passes the time and the keys).

Wire form (query of `GET /links/portal`):
    v=1&c=<ctm_>&a=<action>&s=<sub_ or empty>&e=<unix expiry>&k=<key id>&sig=<b64url>
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import get_args
from urllib.parse import urlencode

from paddle_portal.errors import ConfigurationError, LinkInvalidError
from paddle_portal.paddle.ids import CUSTOMER_ID, SUBSCRIPTION_ID_PATTERN, Action

VERSION = "1"
DEFAULT_LIFETIME_SECONDS = 24 * 3600
MAX_LIFETIME_SECONDS = 30 * 24 * 3600
MIN_LIFETIME_SECONDS = 60
# Links are checked against our own clock only (we minted them), so no skew allowance is needed between
# machines; a few seconds absorb clock steps between Lambda hosts.
CLOCK_SKEW_SECONDS = 5
MIN_KEY_CHARS = 43  # base64url characters: 258 bits

_FIELDS = ("v", "c", "a", "s", "e", "k", "sig")
_PATTERNS = {
    "v": re.compile(r"^1$"),
    "c": CUSTOMER_ID,
    "a": re.compile("^(" + "|".join(get_args(Action)) + ")$"),
    "s": re.compile(r"^$|" + SUBSCRIPTION_ID_PATTERN),
    "e": re.compile(r"^[1-9][0-9]{0,11}$"),
    "k": re.compile(r"^[A-Za-z0-9_-]{1,32}$"),
    "sig": re.compile(r"^[A-Za-z0-9_-]{43}$"),  # 32 bytes, base64url without padding
}
_KEY_ID = _PATTERNS["k"]
_KEY_TEXT = re.compile(rf"^[A-Za-z0-9_-]{{{MIN_KEY_CHARS},512}}$")


@dataclass(frozen=True)
class LinkClaims:
    customer_id: str
    action: Action
    subscription_id: str | None
    expires_at: int  # unix seconds


@dataclass(frozen=True)
class SigningKeys:
    """Every key that may verify a link, and the one that signs new links."""

    keys: Mapping[str, bytes]
    active: str

    @classmethod
    def parse(cls, value: object) -> SigningKeys:
        """Secret value: {"active": "<kid>", "<kid>": "<key>", ...}: each key at least 43 base64url characters
        (256 bits or more). Flat, so CloudFormation's GenerateSecretString can create the first key."""
        try:
            document = json.loads(value) if isinstance(value, str) else None
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise ConfigurationError('The link signing secret must be JSON {"active": "<kid>", "<kid>": "<key>"}')
        active = document.pop("active", None)
        keys: dict[str, bytes] = {}
        for kid, key in document.items():
            if not _KEY_ID.fullmatch(str(kid)) or not isinstance(key, str) or not _KEY_TEXT.fullmatch(key):
                raise ConfigurationError(
                    f"Link signing keys need ids like k1 and at least {MIN_KEY_CHARS} base64url characters"
                )
            keys[kid] = key.encode("ascii")
        if not isinstance(active, str) or active not in keys:
            raise ConfigurationError("The link signing secret's active key id is not among its keys")
        return cls(keys, active)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _canonical(claims: LinkClaims, key_id: str) -> bytes:
    """Versioned, unambiguous: fixed field order, newline-separated, every field pattern-checked (no newlines)."""
    parts = (
        f"paddle-portal-link/v{VERSION}",
        claims.customer_id,
        claims.action,
        claims.subscription_id or "",
        str(claims.expires_at),
        key_id,
    )
    return "\n".join(parts).encode("ascii")


def _signature(key: bytes, claims: LinkClaims, key_id: str) -> str:
    return _b64encode(hmac.new(key, _canonical(claims, key_id), hashlib.sha256).digest())


def sign(claims: LinkClaims, keys: SigningKeys) -> str:
    """The query string of a link for `claims`, signed with the active key."""
    signature = _signature(keys.keys[keys.active], claims, keys.active)
    return urlencode(
        {
            "v": VERSION,
            "c": claims.customer_id,
            "a": claims.action,
            "s": claims.subscription_id or "",
            "e": str(claims.expires_at),
            "k": keys.active,
            "sig": signature,
        }
    )


def claims_for(
    customer_id: str, action: Action, subscription_id: str | None, lifetime_seconds: int, now: float
) -> LinkClaims:
    """What a link minted at `now` (unix seconds) for `lifetime_seconds` will say."""
    return LinkClaims(customer_id, action, subscription_id, int(now) + lifetime_seconds)


def verify(query: list[tuple[str, str]], keys: SigningKeys, now: float) -> LinkClaims:
    """The claims of a genuine, unexpired link. Anything else raises `LinkInvalidError` (one answer for every
    failure, so a prober learns nothing about which part was wrong). An expired link says so (`link_expired`), but
    only once its signature proved genuine."""
    fields: dict[str, str] = {}
    for name, value in query:
        if name not in _FIELDS or name in fields or not _PATTERNS[name].fullmatch(value):
            raise LinkInvalidError("This link is not valid.")
        fields[name] = value
    if set(fields) != set(_FIELDS):
        raise LinkInvalidError("This link is not valid.")
    if fields["a"] != "overview" and not fields["s"]:
        raise LinkInvalidError("This link is not valid.")
    key = keys.keys.get(fields["k"])
    if key is None:
        raise LinkInvalidError("This link is not valid.")
    claims = LinkClaims(fields["c"], fields["a"], fields["s"] or None, int(fields["e"]))  # type: ignore[arg-type]
    if not hmac.compare_digest(_signature(key, claims, fields["k"]), fields["sig"]):
        raise LinkInvalidError("This link is not valid.")
    if claims.expires_at <= now - CLOCK_SKEW_SECONDS:
        raise LinkInvalidError("This link has expired.", code="link_expired")
    if claims.expires_at > now + MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS:
        raise LinkInvalidError("This link is not valid.")
    return claims


def link_url(base_url: str, claims: LinkClaims, keys: SigningKeys) -> str:
    return f"{base_url}/links/portal?{sign(claims, keys)}"
