"""Paddle's portal session as we accept it: every link checked before any leaves this function.

Links under fields we do not know (a future `urls.general.billing_history`) are passed on, checked like the
overview: one link that fails the checks refuses the whole answer (502), so no unchecked URL reaches a caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from paddle_portal.paddle.errors import PaddleResponseError
from paddle_portal.paddle.ids import Action


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")  # Paddle may add fields; we read only what we need


class _SubscriptionUrls(_Lenient):
    id: str
    cancel_subscription: str
    update_subscription_payment_method: str


class _GeneralUrls(_Lenient):
    overview: str


class _Urls(_Lenient):
    general: _GeneralUrls
    subscriptions: list[_SubscriptionUrls] = []


class _SessionData(_Lenient):
    id: str
    customer_id: str | None = None
    urls: _Urls


def is_allowed_link(url: str, allowed_hosts: tuple[str, ...], local_portal: str | None = None) -> bool:
    """Only `https://<allowed host>/...` with no credentials, no port and no control characters or spaces; and, in the
    local run only (`local_portal`, which settings refuse inside Lambda), links under the local portal stand-in."""
    # isprintable() is False for every whitespace character but " " (one C loop instead of a generator per character)
    if not url.isprintable() or " " in url or "\\" in url:
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if local_portal is not None and f"{parts.scheme}://{parts.netloc}" == local_portal and port is not None:
        return parts.username is None and parts.password is None
    return (
        parts.scheme == "https"
        and parts.username is None
        and parts.password is None
        and port is None
        and parts.hostname is not None
        and parts.netloc.lower() == parts.hostname
        and parts.hostname in allowed_hosts
    )


# A Paddle id ("sub_01h..."): the only kind of string under `urls` that is not a link.
_PADDLE_ID = re.compile(r"[a-z]{3,4}_[a-z\d]{26}")
# Outside `urls`, a string is taken for a link when it has a scheme ("https:x", "javascript:x") or a "//".
_LINK_SHAPED = re.compile(r"\s*[a-z][a-z\d+.\-]*:\S|.*(?://|\\\\|www\.)", re.IGNORECASE | re.DOTALL)


def _links_in(data: dict[str, Any]) -> Iterator[str]:
    """Every link the answer carries, known fields or not: every string anywhere under `urls` except Paddle ids
    (a string there is a link or an id, nothing else), and every link-shaped string elsewhere. All are passed on
    to callers as they came (`as_json`), so all must pass `is_allowed_link`. A loop, not recursion: the nesting
    is Paddle's to choose."""
    pending: list[tuple[object, bool, str]] = [(value, key == "urls", key) for key, value in data.items()]
    while pending:
        value, inside_urls, key = pending.pop()
        if isinstance(value, str):
            is_id = key == "id" and _PADDLE_ID.fullmatch(value)
            if (inside_urls and not is_id) or (not inside_urls and _LINK_SHAPED.match(value)):
                yield value
        elif isinstance(value, dict):
            pending += [(inner, inside_urls, str(inner_key)) for inner_key, inner in value.items()]
        elif isinstance(value, list):
            pending += [(item, inside_urls, key) for item in value]


@dataclass(frozen=True)
class PortalSession:
    data: dict[str, Any]  # exactly as Paddle returned it
    request_id: str | None
    session_id: str
    overview_url: str
    subscription_urls: dict[str, _SubscriptionUrls]

    @classmethod
    def from_paddle(
        cls,
        data: dict[str, Any],
        request_id: str | None,
        allowed_hosts: tuple[str, ...],
        customer_id: str | None = None,
        local_portal: str | None = None,
    ) -> PortalSession:
        """Check Paddle's answer; `customer_id`, when given, is the customer we asked for: a session Paddle says
        is someone else's is never handed on (`data.customer_id` is optional in Paddle's schema)."""
        try:
            parsed = _SessionData.model_validate(data)
        except ValidationError:
            raise PaddleResponseError(
                "Paddle's answer lacks the portal session fields.",
                request_id=request_id,
            ) from None
        if customer_id is not None and parsed.customer_id is not None and parsed.customer_id != customer_id:
            raise PaddleResponseError("Paddle answered with a session for another customer.", request_id=request_id)
        if not all(is_allowed_link(link, allowed_hosts, local_portal) for link in _links_in(data)):
            raise PaddleResponseError(
                "Paddle answered with a portal link on a host that is not allowed.",
                request_id=request_id,
            )
        return cls(
            data=data,
            request_id=request_id,
            session_id=parsed.id,
            overview_url=parsed.urls.general.overview,
            subscription_urls={sub.id: sub for sub in parsed.urls.subscriptions},
        )

    def link(self, action: Action, subscription_id: str | None) -> str | None:
        """The overview, or the deep link for the subscription and action asked for; None when Paddle's answer has no
        link for that subscription (Paddle returns deep links only for the subscriptions it was sent)."""
        if action == "overview":
            return self.overview_url
        urls = self.subscription_urls.get(subscription_id or "")
        if urls is None:
            return None
        return urls.cancel_subscription if action == "cancel_subscription" else urls.update_subscription_payment_method

    def as_json(self) -> dict[str, Any]:
        return {"data": self.data, "meta": {"request_id": self.request_id}}
