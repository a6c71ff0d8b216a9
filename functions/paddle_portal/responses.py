"""Every HTTP answer this function gives: JSON, redirect, or an error in Paddle's envelope.

The shape works for HTTP API 2.0, REST API 1.0 and Function URL alike.
"""

from __future__ import annotations

import json
from typing import Any

from paddle_portal.errors import PortalError

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
    """302 to a portal link; the caller must have checked it (`paddle_session.is_allowed_link`)."""
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


def error_page(error: PortalError, request_id: str | None) -> dict[str, Any]:
    """The same error for a person in a browser (the signed-link route): a small page, no scripts, no links."""
    import html  # here, not at import: html loads its entity table, and only a refused signed link needs a page

    body = error_body(error, request_id)["error"]
    title = "This link has expired" if error.code == "link_expired" else "This link cannot be opened"
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">'
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(body['detail'])}</p><p>Ask for a new link where you got this one.</p>"
        f"<p><small>Reference: {html.escape(str(error.request_id or request_id or ''))}</small></p></body></html>"
    )
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": "default-src 'none'",
        "Referrer-Policy": "no-referrer",
        **_COMMON_HEADERS,
    }
    if error.retry_after is not None:  # a browser gets the same hint as an API client (429 after Paddle's limit)
        headers["Retry-After"] = str(error.retry_after)
    return {"statusCode": error.status, "headers": headers, "body": page, "isBase64Encoded": False}
