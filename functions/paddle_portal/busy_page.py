"""The page a browser following a signed link gets when the portal is busy (Paddle's rate limit, or this function's
own budgets): busy, not broken. The link is fine; the page says so and loads itself again a few times.

No script and nothing to load (the same `default-src 'none'` policy as every other page): a `<meta>` refresh
without a URL reloads the same address, so the page never repeats the link (a credential) or anything secret. The
tries are counted in a short-lived cookie the page sets (`portal_busy`), which the next load reads: after
`MAX_TRIES` the page stops refreshing and asks the person to come back in a minute.
"""

from __future__ import annotations

from typing import Any

from paddle_portal.errors import PortalError

BUSY_COOKIE = "portal_busy"
MAX_TRIES = 3  # then the person decides: three waits of a few seconds each is as long as anyone watches a page
MIN_WAIT_SECONDS = 2  # a refresh sooner than this would only meet the same limit again
MAX_WAIT_SECONDS = 30  # a longer Retry-After is still sent as a header; the page retries within a person's patience
COOKIE_MAX_AGE_SECONDS = 120


def tries_so_far(event: dict[str, Any]) -> int:
    """The busy page's count from the request's cookies (payload 2.0 `cookies`, or a REST API's Cookie header)."""
    cookies = event.get("cookies")
    if not isinstance(cookies, list):
        headers = event.get("headers")
        found = [v for k, v in headers.items() if k.lower() == "cookie"] if isinstance(headers, dict) else []
        cookies = found[0].split(";") if found and isinstance(found[0], str) else []
    for cookie in cookies:
        name, _, value = str(cookie).strip().partition("=")
        if name == BUSY_COOKIE and value.isdigit() and len(value) <= 2:
            return int(value)
    return 0


def busy_page(error: PortalError, request_id: str | None, tries: int) -> dict[str, Any]:
    """429 (with Retry-After) as a page that says the portal is busy and reloads itself, at most `MAX_TRIES` times."""
    import html

    wait = min(MAX_WAIT_SECONDS, max(MIN_WAIT_SECONDS, error.retry_after or MIN_WAIT_SECONDS))
    again = tries < MAX_TRIES
    refresh = f'<meta http-equiv="refresh" content="{wait}">' if again else ""
    then = (
        f"This page will try again by itself in {wait} seconds."
        if again
        else "It is still busy: please reload this page in a minute or two."
    )
    title = "The billing portal is busy"
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">'
        f"{refresh}<title>{title}</title></head><body><h1>{title}</h1>"
        "<p>Your link is fine. Many people are opening the billing portal right now.</p>"
        f"<p>{then}</p>"
        f"<p><small>Reference: {html.escape(str(error.request_id or request_id or ''))}</small></p></body></html>"
    )
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": "default-src 'none'",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Retry-After": str(error.retry_after if error.retry_after is not None else wait),
        "Set-Cookie": f"{BUSY_COOKIE}={tries + 1}; Max-Age={COOKIE_MAX_AGE_SECONDS}; HttpOnly; Secure; SameSite=Lax",
    }
    return {"statusCode": error.status, "headers": headers, "body": page, "isBase64Encoded": False}
