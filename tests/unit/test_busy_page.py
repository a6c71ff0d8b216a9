"""A browser that meets a limit on a signed link: busy, not broken, and it tries again by itself a few times."""

from __future__ import annotations

import pytest

from paddle_portal.errors import RateLimitedError
from paddle_portal.http_api.events import HttpRequest
from paddle_portal.http_api.responses import BUSY_COOKIE, BUSY_MAX_TRIES, error_page


def request(cookies: tuple[str, ...] = (), headers: dict[str, str] | None = None) -> HttpRequest:
    return HttpRequest(
        "GET", "/links/portal", "/links/portal", {}, [], headers or {}, None, False, None, "r", None, cookies
    )


@pytest.mark.parametrize(
    ("cookies", "headers", "tries"),
    [
        pytest.param((), {}, 0, id="no-cookie"),
        pytest.param(("a=b", "portal_busy=2"), {}, 2, id="http-api-cookies"),
        pytest.param((), {"cookie": "x=1; portal_busy=1"}, 1, id="rest-api-cookie-header"),
        pytest.param(("portal_busy=999",), {}, 0, id="absurd-count-ignored"),
        pytest.param(("portal_busy=x",), {}, 0, id="garbage-ignored"),
        pytest.param(("portal_busy_2=1",), {}, 0, id="another-cookie"),
    ],
)
def test_tries_come_from_the_cookie(cookies: tuple[str, ...], headers: dict[str, str], tries: int) -> None:
    busy = RateLimitedError("limit", retry_after=5)

    answer = error_page(busy, "gw-1", request(cookies, headers).cookie(BUSY_COOKIE))

    assert answer["headers"]["Set-Cookie"].startswith(f"portal_busy={tries + 1};")


@pytest.mark.parametrize(
    ("retry_after", "tries", "refresh"),
    [
        pytest.param(1, 0, '<meta http-equiv="refresh" content="2">', id="short-wait-floored"),
        pytest.param(5, 1, '<meta http-equiv="refresh" content="5">', id="paddles-wait"),
        pytest.param(600, 2, '<meta http-equiv="refresh" content="30">', id="long-wait-capped-on-the-page"),
        pytest.param(5, BUSY_MAX_TRIES, None, id="stops-after-max-tries"),
    ],
)
def test_the_page_says_busy_and_refreshes_a_few_times(retry_after: int, tries: int, refresh: str | None) -> None:
    error = RateLimitedError("limit", retry_after=retry_after, request_id="req-1")
    answer = error_page(error, "gw-1", str(tries) if tries else None)

    page = answer["body"]
    assert answer["statusCode"] == 429
    assert answer["headers"]["Retry-After"] == str(retry_after)  # the header keeps Paddle's word
    assert answer["headers"]["Content-Security-Policy"] == "default-src 'none'"
    assert answer["headers"]["Cache-Control"] == "no-store"
    assert answer["headers"]["Set-Cookie"].startswith(f"portal_busy={tries + 1};")
    assert "HttpOnly" in answer["headers"]["Set-Cookie"]
    assert "busy" in page
    assert "Your link is fine" in page
    assert "new link" not in page
    assert "cannot be opened" not in page
    assert "<script" not in page
    assert "href=" not in page
    assert "url=" not in page.lower()
    if refresh is None:
        assert "http-equiv" not in page
        assert "reload this page" in page
    else:
        assert refresh in page
        assert "try again by itself" in page
