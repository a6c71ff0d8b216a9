"""A browser that meets a limit on a signed link: busy, not broken, and it tries again by itself a few times."""

from __future__ import annotations

import pytest

from paddle_portal.busy_page import MAX_TRIES, busy_page, tries_so_far
from paddle_portal.errors import RateLimitedError


@pytest.mark.parametrize(
    ("event", "tries"),
    [
        pytest.param({}, 0, id="no-cookie"),
        pytest.param({"cookies": ["a=b", "portal_busy=2"]}, 2, id="http-api-cookies"),
        pytest.param({"headers": {"Cookie": "x=1; portal_busy=1"}}, 1, id="rest-api-cookie-header"),
        pytest.param({"cookies": ["portal_busy=999"]}, 0, id="absurd-count-ignored"),
        pytest.param({"cookies": ["portal_busy=x"]}, 0, id="garbage-ignored"),
        pytest.param({"cookies": "portal_busy=1"}, 0, id="malformed-cookies-field"),
    ],
)
def test_tries_come_from_the_cookie(event: dict[str, object], tries: int) -> None:
    assert tries_so_far(event) == tries


@pytest.mark.parametrize(
    ("retry_after", "tries", "refresh"),
    [
        pytest.param(1, 0, '<meta http-equiv="refresh" content="2">', id="short-wait-floored"),
        pytest.param(5, 1, '<meta http-equiv="refresh" content="5">', id="paddles-wait"),
        pytest.param(600, 2, '<meta http-equiv="refresh" content="30">', id="long-wait-capped-on-the-page"),
        pytest.param(5, MAX_TRIES, None, id="stops-after-max-tries"),
    ],
)
def test_the_page_says_busy_and_refreshes_a_few_times(retry_after: int, tries: int, refresh: str | None) -> None:
    answer = busy_page(RateLimitedError("limit", retry_after=retry_after, request_id="req-1"), "gw-1", tries)

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
