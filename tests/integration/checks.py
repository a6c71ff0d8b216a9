"""Assertions on the function's HTTP answers that every test would otherwise repeat."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from tests.support import API_KEY, PORTAL_TOKEN

ALLOWED_PORTAL_HOSTS = {"customer-portal.paddle.com", "sandbox-customer-portal.paddle.com"}


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def assert_error(response: dict[str, Any], status: int, code: str, *, fields: bool | None = None) -> dict[str, Any]:
    """An error in Paddle's envelope, uncacheable, with nothing secret in it. Returns the `error` object.

    `fields`: True when `errors[]` must be present, False when it must be absent, None to not care."""
    assert response["statusCode"] == status, response["body"]
    headers = response["headers"]
    assert (headers["Cache-Control"], headers["Content-Type"]) == ("no-store", "application/json")
    assert ("Retry-After" in headers) is (status == 429)
    assert "Location" not in headers
    envelope = body_of(response)
    assert set(envelope) == {"error", "meta"}
    error = envelope["error"]
    assert error["type"] == ("request_error" if status < 500 else "api_error")
    assert error["code"] == code
    assert isinstance(error["detail"], str)
    assert error["detail"]
    assert set(error) <= {"type", "code", "detail", "errors"}
    assert fields is None or ("errors" in error) is fields
    for item in error.get("errors", ()):
        assert set(item) == {"field", "message"}
        assert isinstance(item["field"], str)
        assert isinstance(item["message"], str)
    assert isinstance(envelope["meta"]["request_id"], str)
    assert envelope["meta"]["request_id"]
    assert_no_secrets(response["body"])
    return error


def assert_no_secrets(text: str) -> None:
    """Neither the API key nor a portal link or its token."""
    for secret in (API_KEY, PORTAL_TOKEN, "customer-portal.paddle.com", "pdl_"):
        assert secret not in text


def assert_session(response: dict[str, Any], status: int, sent: dict[str, Any]) -> None:
    """JSON success: Paddle's session exactly as Paddle returned it, with Paddle's request id."""
    assert response["statusCode"] == status, response["body"]
    assert (response["headers"]["Cache-Control"], response["headers"]["Content-Type"]) == (
        "no-store",
        "application/json",
    )
    assert body_of(response) == {"data": sent["data"], "meta": {"request_id": sent["meta"]["request_id"]}}


def assert_redirect(response: dict[str, Any], location: str) -> None:
    assert response["statusCode"] == 302, response["body"]
    assert (response["headers"]["Location"], response["headers"]["Cache-Control"]) == (location, "no-store")
    assert urlsplit(location).scheme == "https"
    assert urlsplit(location).hostname in ALLOWED_PORTAL_HOSTS
    assert response["body"] == ""


def assert_error_page(response: dict[str, Any], status: int) -> str:
    """An error as a person in a browser sees it (the signed-link route): a small HTML page, no scripts, nothing to
    load, nothing cached, nothing secret. Returns the page."""
    assert response["statusCode"] == status, response["body"]
    headers = response["headers"]
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Security-Policy"] == "default-src 'none'"
    assert (headers["Cache-Control"], headers["Referrer-Policy"]) == ("no-store", "no-referrer")
    assert "Location" not in headers
    page = str(response["body"])
    assert page.startswith("<!doctype html>")
    assert "<script" not in page.lower()
    assert "href=" not in page.lower()
    assert_no_secrets(page)
    return page


def assert_refused(response: dict[str, Any], status: int, code: str, paddle: Any, aws: Any) -> None:
    """Refused in Paddle's envelope, and refused *before* the secret was read or Paddle was called."""
    assert_error(response, status, code)
    assert paddle.requests == []
    assert aws.get_secret_value == 0
