"""Assertions on the function's HTTP answers that every test would otherwise repeat."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from paddle_portal.settings import DEFAULT_PORTAL_HOSTS
from tests.support import API_KEY, PORTAL_TOKEN


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def assert_error(response: dict[str, Any], status: int, code: str, *, fields: bool | None = None) -> dict[str, Any]:
    """An error in Paddle's envelope, uncacheable, with nothing secret in it. Returns the `error` object.

    `fields`: True when `errors[]` must be present, False when it must be absent, None to not care."""
    assert response["statusCode"] == status, response["body"]
    headers = response["headers"]
    assert (headers["Cache-Control"], headers["Content-Type"]) == ("no-store", "application/json")
    assert ("Retry-After" in headers, "Location" in headers) == (status == 429, False)
    envelope = body_of(response)
    error, request_id = envelope["error"], envelope["meta"]["request_id"]
    assert (set(envelope), error["type"], error["code"]) == (
        {"error", "meta"},
        "request_error" if status < 500 else "api_error",
        code,
    )
    assert {type(error["detail"]), type(request_id)} == {str}
    assert "" not in (error["detail"], request_id)
    assert set(error) <= {"type", "code", "detail", "errors"}
    assert fields is None or ("errors" in error) is fields
    for item in error.get("errors", ()):
        assert {name: type(text) for name, text in item.items()} == {"field": str, "message": str}
    assert_no_secrets(response["body"])
    return error


def assert_no_secrets(text: str) -> None:
    """Neither the API key nor a portal link or its token."""
    for secret in (API_KEY, PORTAL_TOKEN, "customer-portal.paddle.com", "pdl_"):
        assert secret not in text


def assert_session(response: dict[str, Any], status: int, sent: dict[str, Any]) -> None:
    """JSON success: Paddle's session exactly as Paddle returned it, with Paddle's request id."""
    assert response["statusCode"] == status, response["body"]
    headers = response["headers"]
    assert (headers["Cache-Control"], headers["Content-Type"]) == ("no-store", "application/json")
    assert body_of(response) == {"data": sent["data"], "meta": {"request_id": sent["meta"]["request_id"]}}


def assert_redirect(response: dict[str, Any], location: str) -> None:
    assert response["statusCode"] == 302, response["body"]
    assert (response["headers"]["Location"], response["headers"]["Cache-Control"]) == (location, "no-store")
    assert (urlsplit(location).scheme, urlsplit(location).hostname in DEFAULT_PORTAL_HOSTS) == ("https", True)
    assert response["body"] == ""


def assert_error_page(response: dict[str, Any], status: int) -> str:
    """An error as a person in a browser sees it (the signed-link route): a small HTML page, no scripts, nothing to
    load, nothing cached, nothing secret. Returns the page."""
    assert response["statusCode"] == status, response["body"]
    headers = response["headers"]
    assert (headers["Content-Type"], headers["Content-Security-Policy"]) == (
        "text/html; charset=utf-8",
        "default-src 'none'",
    )
    assert (headers["Cache-Control"], headers["Referrer-Policy"]) == ("no-store", "no-referrer")
    assert "Location" not in headers
    page = str(response["body"])
    assert page.startswith("<!doctype html>")
    assert [part for part in ("<script", "href=") if part in page.lower()] == []
    assert_no_secrets(page)
    return page


def assert_refused(response: dict[str, Any], status: int, code: str, paddle: Any, aws: Any) -> None:
    """Refused in Paddle's envelope, and refused *before* the secret was read or Paddle was called."""
    assert_error(response, status, code)
    assert (paddle.requests, aws.get_secret_value) == ([], 0)
