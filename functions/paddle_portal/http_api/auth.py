"""Who is calling, as the route requires: decided before any secret is read or Paddle is called.

- IAM routes: any caller API Gateway authenticated with SigV4 (IAM policy decides who may call): an `IamPrincipal`,
  who may act for the customer the path names.
- JWT routes: a verified token's `TokenCustomer` (the claim names the customer), or with
  CUSTOMER_LOOKUP=verified_email its `VerifiedEmail` (the Paddle customer with that email, looked up by the use case);
  never anything else in the request.
- The signed-link route: a `LinkHolder`. The link's signature is the credential, verified with the signing keys
  (`portal.follow_signed_link`) before anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from paddle_portal.errors import AuthenticationMissingError, ForbiddenError
from paddle_portal.http_api.events import IamIdentity, Identity, JwtIdentity
from paddle_portal.portal import VerifiedEmail
from paddle_portal.validation import is_customer_id


class Auth(Enum):
    """The credential a route requires."""

    IAM = "iam"  # SigV4, checked by API Gateway; the function requires the IAM identity it hands over
    JWT = "jwt"  # a verified token; the customer is the token's claim (or its verified email's)
    LINK = "link"  # no gateway auth: the signed link itself is the credential


@dataclass(frozen=True)
class IamPrincipal:
    """A SigV4-signed caller (a backend): may act for the customer in the path."""

    arn: str


@dataclass(frozen=True)
class TokenCustomer:
    """A signed-in user whose token's claim names their Paddle customer."""

    customer_id: str


@dataclass(frozen=True)
class LinkHolder:
    """Whoever follows a signed link: the link names the customer."""


Caller = IamPrincipal | TokenCustomer | VerifiedEmail | LinkHolder

# What a 401 tells the caller to send.
_WANTED = {
    Auth.IAM: "This route needs a request signed with AWS SigV4 (IAM).",
    Auth.JWT: "This route needs a bearer token (Authorization: Bearer <JWT>).",
}


def authenticate(identity: Identity, auth: Auth, claim_name: str, lookup: str = "claim") -> Caller:
    """The caller the gateway's `identity` makes on a route requiring `auth`, or the refusal (401 without an
    identity, 403 with the wrong kind or without the customer claim)."""
    if auth is Auth.LINK:
        return LinkHolder()
    if identity is None:
        raise AuthenticationMissingError(_WANTED[auth])
    if auth is Auth.IAM:
        if not isinstance(identity, IamIdentity):
            raise ForbiddenError("This route is for IAM-signed callers.")
        return IamPrincipal(identity.arn)
    if not isinstance(identity, JwtIdentity):
        raise ForbiddenError("This route is for callers with a token.")
    if identity.claims.get("token_use") == "access":
        # Cognito's access token passes a JWT authorizer that lists the app client, but carries no customer claim and
        # no email: say which token to send instead of a misleading "no claim".
        raise ForbiddenError("This is an access token (token_use: access): send the user's ID token instead.")
    if lookup == "verified_email":
        return verified_email(identity.claims)
    customer_id = identity.claims.get(claim_name)
    if not is_customer_id(customer_id):
        raise ForbiddenError(
            f"The token has no {claim_name} claim holding one Paddle customer id (ctm_...): "
            "the user is not linked to a Paddle customer yet."
        )
    return TokenCustomer(customer_id)


# One address, as Paddle's `email` filter takes it: that filter is a comma-separated list, so a comma, whitespace or
# a control character could widen the lookup to other customers. 100 characters is Paddle's limit per address.
_EMAIL = re.compile(r"[^\s,@]{1,64}@[^\s,@]+\.[^\s,@]+")
_MAX_EMAIL_CHARS = 100


def verified_email(claims: dict[str, object]) -> VerifiedEmail:
    """The token's `email`, only when `email_verified` is true: "true" as HTTP API passes every claim, or JSON true
    (REST API's Cognito claims, some issuers)."""
    verified = claims.get("email_verified")
    if verified is not True and verified != "true":
        raise ForbiddenError("The token's email is not verified (email_verified must be true).")
    address = claims.get("email")
    if (
        not isinstance(address, str)
        or len(address) > _MAX_EMAIL_CHARS
        or not address.isprintable()
        or not _EMAIL.fullmatch(address)
    ):
        raise ForbiddenError("The token's email claim is not exactly one plausible email address.")
    return VerifiedEmail(address)
