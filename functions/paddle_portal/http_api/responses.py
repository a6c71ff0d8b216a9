"""Every HTTP answer this function gives: JSON, redirect, or an error in Paddle's envelope.

The shape works for HTTP API 2.0, REST API 1.0 and Function URL alike.
"""

from __future__ import annotations

import json
from typing import Any

from paddle_portal.errors import PortalError, RateLimitedError

Answer = dict[str, Any]  # an HTTP answer as API Gateway and Function URLs take it

# Portal sessions are temporary credentials: nothing we answer may be cached (Paddle's guidance).
_COMMON_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": "application/json",
            **_COMMON_HEADERS,
            **(headers or {}),
        },
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def redirect(location: str) -> dict[str, Any]:
    """302 to a portal link; the caller must have checked it (the use case did: `paddle.session.is_allowed_link`)."""
    return {
        "statusCode": 302,
        # no-referrer: the link's token must not travel on to whatever the portal page loads next
        "headers": {
            "Location": location,
            "Referrer-Policy": "no-referrer",
            **_COMMON_HEADERS,
        },
        "body": "",
        "isBase64Encoded": False,
    }


def error_body(error: PortalError, request_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": error.type, "code": error.code, "detail": error.public_detail}
    if error.errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in error.errors]
    return {"error": body, "meta": {"request_id": error.request_id or request_id}}


def error_response(error: PortalError, request_id: str | None) -> dict[str, Any]:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return json_response(error.status, error_body(error, request_id), headers)


def error_page(error: PortalError, request_id: str | None, busy_cookie: str | None = None) -> dict[str, Any]:
    """The same error for a person in a browser (the signed-link route): a small page, no scripts, no links. A
    rate limit (Paddle's, or this function's own budgets) is busy, not broken: `_busy_page`, which `busy_cookie`
    (the request's `portal_busy` cookie) tells how often it has tried already."""
    import html  # here, not at import: html loads its entity table, and only a refused signed link needs a page

    reference = html.escape(str(error.request_id or request_id or ""))
    if isinstance(error, RateLimitedError):
        return _busy_page(error, reference, _tries(busy_cookie))
    title = "This link has expired" if error.code == "link_expired" else "This link cannot be opened"
    detail = html.escape(error_body(error, request_id)["error"]["detail"])
    # a browser gets the same hint as an API client when there is one
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else {}
    return _page(error.status, title, [detail, "Ask for a new link where you got this one."], reference, headers)


def _page(
    status: int, title: str, paragraphs: list[str], reference: str, headers: dict[str, str], head: str = ""
) -> dict[str, Any]:
    """One small HTML page: fixed `title`, already escaped `paragraphs` and `reference`, nothing to load."""
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">'
        f"{head}<title>{title}</title></head><body><h1>{title}</h1>"
        + "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
        + f"<p><small>Reference: {reference}</small></p></body></html>"
    )
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": "default-src 'none'",
            "Referrer-Policy": "no-referrer",
            **_COMMON_HEADERS,
            **headers,
        },
        "body": page,
        "isBase64Encoded": False,
    }


# The busy page. No script and nothing to load (the same `default-src 'none'` policy as every other page): a
# `<meta>` refresh without a URL reloads the same address, so the page never repeats the link (a credential) or
# anything secret. The tries are counted in a short-lived cookie the page sets, which the next load sends back: after
# BUSY_MAX_TRIES the page stops refreshing and asks the person to come back in a minute.
BUSY_COOKIE = "portal_busy"
BUSY_MAX_TRIES = 3  # three waits of a few seconds each is as long as anyone watches a page
BUSY_MIN_WAIT_SECONDS = 2  # a refresh sooner than this would only meet the same limit again
BUSY_MAX_WAIT_SECONDS = (
    30  # a longer Retry-After is still sent as a header; the page retries within a person's patience
)
_BUSY_COOKIE_AGE_SECONDS = 120


def _tries(cookie: str | None) -> int:
    return int(cookie) if cookie is not None and cookie.isdigit() and len(cookie) <= 2 else 0


def _busy_page(error: PortalError, reference: str, tries: int) -> dict[str, Any]:
    wait = min(BUSY_MAX_WAIT_SECONDS, max(BUSY_MIN_WAIT_SECONDS, error.retry_after or BUSY_MIN_WAIT_SECONDS))
    again = tries < BUSY_MAX_TRIES
    then = (
        f"This page will try again by itself in {wait} seconds."
        if again
        else "It is still busy: please reload this page in a minute or two."
    )
    headers = {
        "Retry-After": str(error.retry_after if error.retry_after is not None else wait),
        "Set-Cookie": f"{BUSY_COOKIE}={tries + 1}; Max-Age={_BUSY_COOKIE_AGE_SECONDS}; HttpOnly; Secure; SameSite=Lax",
    }
    paragraphs = ["Your link is fine. Many people are opening the billing portal right now.", then]
    refresh = f'<meta http-equiv="refresh" content="{wait}">' if again else ""
    return _page(error.status, "The billing portal is busy", paragraphs, reference, headers, head=refresh)
