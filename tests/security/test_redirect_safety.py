"""A redirect (or a JSON link) only ever points at `https://` on an allowed portal host, whatever Paddle answers: a link
on a look-alike host would hand the portal token to whoever owns it. The everyday rule is a table in
tests/unit/test_paddle_session.py; here the tricks that fool URL parsers, a second parser's opinion, and the whole
handler with Paddle answering look-alike links (502, no Location, nothing handed on).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from paddle_portal.errors import UpstreamError
from paddle_portal.paddle.session import is_allowed_link
from paddle_portal.settings import DEFAULT_PORTAL_HOSTS
from tests.events import route_event
from tests.integration.checks import assert_error
from tests.support import CUSTOMER_ID, PORTAL_TOKEN, SUBSCRIPTION_ID, portal_session

HOSTS = DEFAULT_PORTAL_HOSTS
PATH = f"/cpl_01j7zbyqs3vah3aafp4jf62qaw?action=overview&token={PORTAL_TOKEN}"

ALLOWED = {
    "fragment-with-at": "https://customer-portal.paddle.com/cpl_x#@evil.test",
    "query-with-at": "https://customer-portal.paddle.com/cpl_x?next=@evil.test",
    "upper-case-scheme": "HTTPS://customer-portal.paddle.com/cpl_x",
}
REFUSED = {
    "suffix-host": f"https://customer-portal.paddle.com.evil.test{PATH}",
    "prefix-host": "https://evilcustomer-portal.paddle.com/cpl_x",
    "parent-domain": "https://paddle.com/cpl_x",
    "other-tld": "https://customer-portal.paddle.co/cpl_x",
    "trailing-dot": "https://customer-portal.paddle.com./cpl_x",
    "userinfo-host": "https://customer-portal.paddle.com@evil.test/cpl_x",
    "userinfo-with-port": "https://customer-portal.paddle.com:443@evil.test/cpl_x",
    "user-on-allowed-host": "https://user@customer-portal.paddle.com/cpl_x",
    "empty-port": "https://customer-portal.paddle.com:/cpl_x",
    "bad-port": "https://customer-portal.paddle.com:99999/cpl_x",
    "fragment-host": "https://evil.test#@customer-portal.paddle.com/",
    "query-host": "https://evil.test?@customer-portal.paddle.com/",
    "path-host": "https://evil.test/customer-portal.paddle.com/cpl_x",
    "backslash": "https://customer-portal.paddle.com\\@evil.test/",
    "backslash-path": "https://evil.test\\customer-portal.paddle.com/",
    "encoded-dot": "https://customer-portal.paddle.com%2eevil.test/",
    "encoded-at": "https://customer-portal.paddle.com%40evil.test/",
    "semicolon": "https://customer-portal.paddle.com;evil.test/",
    "ideographic-full-stop": "https://customer-portal.paddle.com\u3002evil.test/",
    "fullwidth-letter": "https://\uff43ustomer-portal.paddle.com/cpl_x",
    "cyrillic-letter": "https://\u0441ustomer-portal.paddle.com/cpl_x",
    "punycode": "https://xn--ustomer-portal-xyz.paddle.com/cpl_x",
    "ipv4": "https://127.0.0.1/cpl_x",
    "ipv6": "https://[::1]/cpl_x",
    "scheme-relative": "//customer-portal.paddle.com/cpl_x",
    "relative": "/cpl_x",
    "no-slashes": "https:customer-portal.paddle.com/cpl_x",
    "three-slashes": "https:///customer-portal.paddle.com/cpl_x",
    "javascript": "javascript:alert(1)//customer-portal.paddle.com",
    "data": "data:text/html,<script>alert(1)</script>",
    "leading-space": " https://customer-portal.paddle.com/cpl_x",
    "tab-in-host": "https://customer-portal.paddle.com\t.evil.test/",
    "nul-in-host": "https://customer-portal.paddle.com\x00.evil.test/",
    "empty": "",
}


@pytest.mark.parametrize("url", list(ALLOWED.values()), ids=list(ALLOWED))
def test_allowed(url):
    assert is_allowed_link(url, HOSTS)


@pytest.mark.parametrize("url", list(REFUSED.values()), ids=list(REFUSED))
def test_refused(url):
    assert not is_allowed_link(url, HOSTS)


# Pieces that confuse URL parsers, around the allowed host: generated URLs mix them freely.
PIECES = ["customer-portal.paddle.com", "evil.test", "@", ":", "443", "/", "\\", "#", "?", ".", "%2e", "%40", "\u3002"]
PIECES += ["user", "[::1]", "https://", "http://", "//", " ", "\t", ";", "cpl_x"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(url=st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join).map(lambda tail: "https://" + tail))
def test_a_second_parser_agrees_on_every_allowed_link(url):
    # Given any URL this function would let through
    if not is_allowed_link(url, HOSTS):
        return
    # Then urllib3's independent RFC 3986 parser sees the same thing: https, an allowed host, no userinfo, no port
    parsed = parse_url(url)
    assert parsed.scheme == "https"
    assert parsed.host is not None
    assert parsed.host.lower() in HOSTS
    assert parsed.auth is None
    assert parsed.port is None
    assert urlsplit(url).hostname == parsed.host.lower()


# --- The whole handler, with Paddle answering look-alike links. ---

LOOKALIKE_HOSTS = {
    "suffix-host": "https://customer-portal.paddle.com.evil.test",
    "userinfo": "https://customer-portal.paddle.com@evil.test",
    "other-port": "https://customer-portal.paddle.com:8443",
    "http": "http://customer-portal.paddle.com",
    "cyrillic": "https://\u0441ustomer-portal.paddle.com",
}
# A link that would split the Location header, or carry a second URL
CONTROL_CHARACTERS = {"crlf": "\r\nSet-Cookie: session=stolen", "lf": "\nLocation: https://evil.test/", "nul": "\x00"}
CONTROL_CHARACTERS |= {"space": " https://evil.test/"}


def _session_with(where: str, host: str = "https://customer-portal.paddle.com", tail: str = "") -> dict[str, Any]:
    """Paddle's answer with one link moved to `host` or given a `tail`: the overview, or a subscription deep link."""
    session = portal_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))
    links = session["data"]["urls"]["general"] if where == "overview" else session["data"]["urls"]["subscriptions"][0]
    link = links[where].replace("https://customer-portal.paddle.com", host)
    links[where] = link.replace("?", tail + "?", 1) if tail else link
    return session


WHERE = ["overview", "cancel_subscription", "update_subscription_payment_method"]
CALLERS = {
    "iam-get-redirect": lambda: route_event("http_api", "iam_get", "iam"),
    "jwt-get-json": lambda: route_event("http_api", "jwt_get", "jwt"),
    "iam-post-json": lambda: route_event("http_api", "iam_post", "iam"),
    "rest-get-deep-link": lambda: route_event("rest_api", "iam_get", "iam"),
}
# Every look-alike host and control character in every link position for a browser redirect; every caller for one.
LOOKALIKE_CASES = (
    [
        pytest.param("iam-get-redirect", {"host": host}, where, id=f"iam-get-redirect-{name}-{where}")
        for name, host in LOOKALIKE_HOSTS.items()
        for where in WHERE
    ]
    + [
        pytest.param("iam-get-redirect", {"tail": tail}, where, id=f"iam-get-redirect-{name}-{where}")
        for name, tail in CONTROL_CHARACTERS.items()
        for where in WHERE
    ]
    + [
        pytest.param(caller, {"host": LOOKALIKE_HOSTS["suffix-host"]}, where, id=f"{caller}-suffix-host-{where}")
        for caller in list(CALLERS)[1:]
        for where in WHERE
    ]
)


@pytest.mark.parametrize(("caller", "change", "where"), LOOKALIKE_CASES)
def test_lookalike_link_anywhere_in_the_session_is_502_without_location(caller, change, where, invoke, paddle, aws):
    # Given Paddle answers with one link, any one of them, on a look-alike host or with control characters
    paddle.answers(201, _session_with(where, **change), customer_id=CUSTOMER_ID)

    # When a caller asks for a redirect or for JSON
    response = invoke(CALLERS[caller]())

    # Then nothing of the session is handed on: no redirect, no links in the body, no header split
    assert_error(response, 502, "bad_gateway")
    assert PORTAL_TOKEN not in json.dumps(response)
    assert not any({"\r", "\n"} & set(value) for value in response["headers"].values())
    assert len(paddle.requests) == 1


@pytest.mark.parametrize("host", list(LOOKALIKE_HOSTS.values()), ids=list(LOOKALIKE_HOSTS))
def test_lookalike_link_raises_upstream_error_for_direct_invokers(host, invoke, paddle, aws):
    paddle.answers(201, _session_with("overview", host), customer_id=CUSTOMER_ID)

    with pytest.raises(UpstreamError) as raised:
        invoke({"customer_id": CUSTOMER_ID})

    assert "evil" not in str(raised.value)
    assert PORTAL_TOKEN not in str(raised.value)


CONFIGURED = {
    "default-hosts": (None, "https://customer-portal.paddle.com", 302),
    "configured-host": ("billing.example.com", "https://billing.example.com", 302),
    "default-host-no-longer-allowed": ("billing.example.com", "https://customer-portal.paddle.com", 502),
}


@pytest.mark.parametrize(("allowed", "host", "status"), list(CONFIGURED.values()), ids=list(CONFIGURED))
def test_redirect_goes_to_the_allowed_link_and_says_no_referrer(
    allowed, host, status, invoke, paddle, aws, monkeypatch
):
    # Given the default portal hosts, or a deployment that allows only its own portal domain (PORTAL_ALLOWED_HOSTS)
    if allowed:
        monkeypatch.setenv("PORTAL_ALLOWED_HOSTS", allowed)
    sent = portal_session(CUSTOMER_ID, host=host)
    paddle.answers(201, sent, customer_id=CUSTOMER_ID)

    response = invoke(route_event("http_api", "iam_get", "iam"))

    if status == 502:
        assert_error(response, 502, "bad_gateway")
    else:
        assert response["statusCode"] == 302
        assert response["headers"]["Location"] == sent["data"]["urls"]["general"]["overview"]
        assert response["headers"]["Referrer-Policy"] == "no-referrer"  # the token must not leak onwards
        assert response["headers"]["Cache-Control"] == "no-store"
