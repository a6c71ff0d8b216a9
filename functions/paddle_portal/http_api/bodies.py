"""What HTTP callers send: the strict models of the routes' bodies, queries and path (validation.py's rules)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from paddle_portal.signed_links import MIN_LIFETIME_SECONDS
from paddle_portal.validation import Action, CustomerId, LinkFields, StrictModel, SubscriptionId, SubscriptionIds

# A signed-in user's page mints a link and follows it at once: it need not outlive the click by much, and a link
# that leaks (history, a shared screen) must not stay a credential for long.
BROWSER_LINK_DEFAULT_SECONDS = 60
BROWSER_LINK_MAX_SECONDS = 300
BrowserLinkLifetime = Annotated[int, Field(ge=MIN_LIFETIME_SECONDS, le=BROWSER_LINK_MAX_SECONDS)]


class CreateSessionBody(StrictModel):
    """POST body of the session routes (Paddle's `customer-portal-session-create`)."""

    subscription_ids: SubscriptionIds = Field(default_factory=list)


class PortalQuery(StrictModel):
    """Query of the GET routes."""

    action: Action = "overview"
    subscription_id: SubscriptionId | None = None


class CustomerPath(StrictModel):
    customer_id: CustomerId


class MintLinkBody(LinkFields):
    """POST body of `/customers/{customer_id}/portal-links`: what the signed link will open, and for how long."""


class BrowserLinkBody(LinkFields):
    """POST body of `/portal-links` (JWT): as the backends' mint route, with a short lifetime (default 60 s, at most
    5 minutes), for the token's own customer."""

    expires_in: BrowserLinkLifetime = BROWSER_LINK_DEFAULT_SECONDS
