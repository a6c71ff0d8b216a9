"""Who may mint a link for whom. Decided before any secret is read or Paddle is called.

- IAM routes: any caller API Gateway authenticated with SigV4 (IAM policy decides who may call); the customer
  is the one in the path.
- JWT routes: the customer is the one named by the verified token's claim, and nothing else in the request.
- The signed-link route: no caller identity; the link's signature is the credential, verified with the signing
  keys before anything else (`signed_links.verify`, in operations.py because it needs the keys).
"""

from __future__ import annotations

from paddle_portal.errors import AuthenticationMissingError, ForbiddenError
from paddle_portal.http_events import Auth, HttpRequest, IamIdentity, JwtIdentity
from paddle_portal.paddle_ids import CUSTOMER_ID

# What a 401 tells the caller to send.
_WANTED = {
    Auth.IAM: "This route needs a request signed with AWS SigV4 (IAM).",
    Auth.JWT: "This route needs a bearer token (Authorization: Bearer <JWT>).",
}


def authorize(request: HttpRequest, claim_name: str) -> str | None:
    """Check the caller against the route. Returns the customer id a JWT route is bound to (None on IAM routes,
    whose customer comes from the path)."""
    identity = request.identity
    if request.route.auth is Auth.LINK:
        return None
    if identity is None:
        raise AuthenticationMissingError(_WANTED[request.route.auth])
    if request.route.auth is Auth.IAM:
        if not isinstance(identity, IamIdentity):
            raise ForbiddenError("This route is for IAM-signed callers.")
        return None
    if not isinstance(identity, JwtIdentity):
        raise ForbiddenError("This route is for callers with a token.")
    customer_id = identity.claims.get(claim_name)
    if not isinstance(customer_id, str) or not CUSTOMER_ID.fullmatch(customer_id):
        raise ForbiddenError(f"The token's {claim_name} claim does not hold exactly one Paddle customer id (ctm_...).")
    return customer_id
