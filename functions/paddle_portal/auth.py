"""Who may mint a link for whom. Decided before any secret is read or Paddle is called.

- IAM routes: any caller API Gateway authenticated with SigV4 (IAM policy decides who may call); the customer
  is the one in the path.
- JWT routes: the customer is the one named by the verified token's claim, or (CUSTOMER_LOOKUP=verified_email) the
  Paddle customer with the token's verified email; never anything else in the request.
- The signed-link route: no caller identity; the link's signature is the credential, verified with the signing
  keys before anything else (`signed_links.verify`, in operations.py because it needs the keys).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from paddle_portal.errors import AuthenticationMissingError, ForbiddenError
from paddle_portal.http_events import Auth, HttpRequest, IamIdentity, JwtIdentity
from paddle_portal.inputs import path_customer_id
from paddle_portal.paddle_ids import CUSTOMER_ID

# What a 401 tells the caller to send.
_WANTED = {
    Auth.IAM: "This route needs a request signed with AWS SigV4 (IAM).",
    Auth.JWT: "This route needs a bearer token (Authorization: Bearer <JWT>).",
}


@dataclass(frozen=True)
class VerifiedEmail:
    """A JWT route's caller known by a verified email only: the customer is the Paddle customer with that email."""

    address: str


def authorize(request: HttpRequest, claim_name: str, lookup: str = "claim") -> str | VerifiedEmail | None:
    """Check the caller against the route. Returns whom the request may act for: the path's customer on IAM routes;
    on JWT routes the customer id of the claim, or (`lookup="verified_email"`) the token's verified email; None on
    the signed-link route, whose link names the customer (verified in `operations.follow_signed_link`)."""
    identity = request.identity
    if request.route.auth is Auth.LINK:
        return None
    if identity is None:
        raise AuthenticationMissingError(_WANTED[request.route.auth])
    if request.route.auth is Auth.IAM:
        if not isinstance(identity, IamIdentity):
            raise ForbiddenError("This route is for IAM-signed callers.")
        return path_customer_id(request)
    if not isinstance(identity, JwtIdentity):
        raise ForbiddenError("This route is for callers with a token.")
    if identity.claims.get("token_use") == "access":
        # Cognito's access token passes a JWT authorizer that lists the app client, but carries no customer claim and
        # no email: say which token to send instead of a misleading "no claim".
        raise ForbiddenError("This is an access token (token_use: access): send the user's ID token instead.")
    if lookup == "verified_email":
        return verified_email(identity.claims)
    customer_id = identity.claims.get(claim_name)
    if not isinstance(customer_id, str) or not CUSTOMER_ID.fullmatch(customer_id):
        raise ForbiddenError(
            f"The token has no {claim_name} claim holding one Paddle customer id (ctm_...): "
            "the user is not linked to a Paddle customer yet."
        )
    return customer_id


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
