"""`http_api.auth.authenticate`: the caller a route requires, from the identity the gateway handed over; 401 without
an identity (naming the credential wanted), 403 with the wrong kind or no customer. Which identity each event format
carries is read in tests/unit/test_http_events.py."""

from __future__ import annotations

from typing import Any

import pytest

from paddle_portal.errors import AuthenticationMissingError, ForbiddenError
from paddle_portal.http_api.auth import Auth, IamPrincipal, LinkHolder, TokenCustomer, authenticate
from paddle_portal.http_api.events import IamIdentity, JwtIdentity
from paddle_portal.portal import VerifiedEmail
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID

CLAIM = "custom:paddle_customer_id"
ARN = "arn:aws:sts::123456789012:assumed-role/billing-backend-role/billing-backend"
IAM, TOKEN = IamIdentity(ARN), JwtIdentity({CLAIM: CUSTOMER_ID, "token_use": "id"})
EMAIL = "Jane.Doe+billing@example.com"
FORBIDDEN_CLAIM = (ForbiddenError, CLAIM)  # the refusal names the claim the route wanted


def caller_or_refusal(identity: Any, auth: Auth = Auth.JWT, claim: str = CLAIM, lookup: str = "claim") -> Any:
    try:
        return authenticate(identity, auth, claim, lookup)
    except (AuthenticationMissingError, ForbiddenError) as refusal:
        return type(refusal), refusal.detail


def matches(read: Any, expected: Any) -> bool:
    """The caller expected, or a refusal of the expected class whose detail holds the expected words."""
    if isinstance(expected, tuple):
        return isinstance(read, tuple) and read[0] is expected[0] and expected[1] in read[1]
    return bool(read == expected)


BY_IDENTITY = {
    "iam-route-iam": (Auth.IAM, IAM, IamPrincipal(ARN)),
    "iam-route-none": (Auth.IAM, None, (AuthenticationMissingError, "SigV4")),
    "iam-route-token": (Auth.IAM, TOKEN, (ForbiddenError, "IAM")),
    "jwt-route-token": (Auth.JWT, TOKEN, TokenCustomer(CUSTOMER_ID)),
    "jwt-route-none": (Auth.JWT, None, (AuthenticationMissingError, "Authorization: Bearer")),
    "jwt-route-iam": (Auth.JWT, IAM, (ForbiddenError, "token")),
    "link-route-none": (Auth.LINK, None, LinkHolder()),
    "link-route-token": (Auth.LINK, TOKEN, LinkHolder()),
    "link-route-iam": (Auth.LINK, IAM, LinkHolder()),
}


@pytest.mark.parametrize(("auth", "identity", "expected"), list(BY_IDENTITY.values()), ids=list(BY_IDENTITY))
def test_route_by_identity(auth, identity, expected):
    assert matches(caller_or_refusal(identity, auth), expected)


# (Empty, a list, two ids, look-alikes, a trailing newline, the configured claim's name and access tokens in both
# modes: through the handler in tests/security/test_authorization_matrix.py.)
CLAIMS = {
    "other-prefix": ({CLAIM: "cus_01gysfvfy7vqhpzkq8rjmrq7an"}, FORBIDDEN_CLAIM),
    "upper-case": ({CLAIM: CUSTOMER_ID.upper()}, FORBIDDEN_CLAIM),
    "too-short": ({CLAIM: CUSTOMER_ID[:-1]}, FORBIDDEN_CLAIM),
    "too-long": ({CLAIM: CUSTOMER_ID + "a"}, FORBIDDEN_CLAIM),
    "leading-space": ({CLAIM: " " + CUSTOMER_ID}, FORBIDDEN_CLAIM),
    "fullwidth-lookalike": ({CLAIM: CUSTOMER_ID[:-1] + "\uff4e"}, FORBIDDEN_CLAIM),
    "arabic-indic-digit": ({CLAIM: CUSTOMER_ID[:-1] + "\u0663"}, FORBIDDEN_CLAIM),
    "path-traversal": ({CLAIM: f"{CUSTOMER_ID}/../{OTHER_CUSTOMER_ID}"}, FORBIDDEN_CLAIM),
    "url-encoded": ({CLAIM: CUSTOMER_ID.replace("_", "%5F")}, FORBIDDEN_CLAIM),
    "object": ({CLAIM: {"id": CUSTOMER_ID}}, FORBIDDEN_CLAIM),
    "number": ({CLAIM: 12345}, FORBIDDEN_CLAIM),
    "null": ({CLAIM: None}, FORBIDDEN_CLAIM),
    "absent": ({"email": EMAIL, "email_verified": "true"}, FORBIDDEN_CLAIM),  # claim mode: an email does not count
    # Cognito can add claims to access tokens: one carrying the customer is refused all the same
    "access-token": ({"token_use": "access", CLAIM: CUSTOMER_ID}, (ForbiddenError, "ID token")),
}


@pytest.mark.parametrize(("claims", "expected"), list(CLAIMS.values()), ids=list(CLAIMS))
def test_only_a_claim_of_exactly_one_customer_id_names_the_customer(claims, expected):
    assert matches(caller_or_refusal(JwtIdentity(claims)), expected)


# --- CUSTOMER_LOOKUP=verified_email: the token's email, when verified and exactly one plausible address ---

NOT_VERIFIED = (ForbiddenError, "email_verified must be true")
NOT_ONE_ADDRESS = (ForbiddenError, "not exactly one plausible email address")
EMAILS = {
    "http-api-string-true": (EMAIL, "true", VerifiedEmail(EMAIL)),
    "json-true": (EMAIL, True, VerifiedEmail(EMAIL)),
    "false": (EMAIL, "false", NOT_VERIFIED),
    "json-false": (EMAIL, False, NOT_VERIFIED),
    "capitalised": (EMAIL, "True", NOT_VERIFIED),
    "int-one": (EMAIL, 1, NOT_VERIFIED),
    "null": (EMAIL, None, NOT_VERIFIED),
    "verified-absent": (EMAIL, ..., NOT_VERIFIED),
    "two-addresses": (f"{EMAIL},victim@example.com", "true", NOT_ONE_ADDRESS),
    "comma-in-local-part": ("a,b@example.com", "true", NOT_ONE_ADDRESS),
    "space": ("jane doe@example.com", "true", NOT_ONE_ADDRESS),
    "trailing-newline": (f"{EMAIL}\n", "true", NOT_ONE_ADDRESS),
    "no-at": ("jane.example.com", "true", NOT_ONE_ADDRESS),
    "two-ats": ("jane@doe@example.com", "true", NOT_ONE_ADDRESS),
    "no-dot-in-domain": ("jane@localhost", "true", NOT_ONE_ADDRESS),
    "empty-address": ("", "true", NOT_ONE_ADDRESS),
    "over-100": ("j" * 60 + "@" + "e" * 36 + ".com", "true", NOT_ONE_ADDRESS),
    "list": (["jane@example.com", "victim@example.com"], "true", NOT_ONE_ADDRESS),
    "number": (7, "true", NOT_ONE_ADDRESS),
    "email-absent": (..., "true", NOT_ONE_ADDRESS),
}


@pytest.mark.parametrize(("email", "verified", "expected"), list(EMAILS.values()), ids=list(EMAILS))
def test_a_verified_email_is_the_caller_whatever_the_customer_claim_says(email, verified, expected):
    claims = {name: value for name, value in (("email", email), ("email_verified", verified)) if value is not ...}

    # (the customer claim names someone else, and is ignored in this mode)
    read = caller_or_refusal(JwtIdentity({CLAIM: OTHER_CUSTOMER_ID, **claims}), lookup="verified_email")

    assert matches(read, expected)
