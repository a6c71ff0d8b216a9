"""Paddle's portal session as we accept it: every link checked (`is_allowed_link`), deep links found by action.

The everyday rule is here; the tricks that fool URL parsers are tests/security/test_redirect_safety.py's."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from paddle_portal.paddle.errors import PaddleResponseError
from paddle_portal.paddle.session import PortalSession, is_allowed_link
from paddle_portal.settings import DEFAULT_PORTAL_HOSTS
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID, portal_session

LINK = "https://customer-portal.paddle.com/cpl_01j7zbyqs3vah3aafp4jf62qaw?action=overview"
STANDIN = "http://127.0.0.1:3003"  # the local run's stand-in of Paddle's portal (`make run` only)


@pytest.mark.parametrize(
    ("url", "allowed", "local_portal"),
    [
        pytest.param(LINK, True, None, id="live-portal"),
        pytest.param("https://sandbox-customer-portal.paddle.com/cpl_x", True, None, id="sandbox-portal"),
        pytest.param("https://CUSTOMER-PORTAL.paddle.com", True, None, id="host-in-upper-case-no-path"),
        pytest.param(LINK.replace("https:", "http:"), False, None, id="plain-http"),
        pytest.param("https://evil.example.com/cpl_x", False, None, id="other-host"),
        pytest.param("https://evil.customer-portal.paddle.com/cpl_x", False, None, id="subdomain-of-allowed-host"),
        pytest.param("https://user:pass@customer-portal.paddle.com/cpl_x", False, None, id="credentials"),
        pytest.param("https://customer-portal.paddle.com:443/cpl_x", False, None, id="explicit-port"),
        pytest.param("https://customer-portal.paddle.com/cpl x", False, None, id="space"),
        pytest.param(LINK + "\r\nSet-Cookie: a=b", False, None, id="header-injection"),
        pytest.param("https://customer-portal.paddle.com/\u202ecpl", False, None, id="bidi-control"),
        pytest.param(f"{STANDIN}/cpl_01", False, None, id="no-stand-in-no-loopback-link"),
        pytest.param(f"{STANDIN}/cpl_01?action=overview", True, STANDIN, id="the-stand-in"),
        pytest.param(LINK, True, STANDIN, id="paddle-still-allowed-beside-the-stand-in"),
        pytest.param("http://127.0.0.1:3004/cpl_01", False, STANDIN, id="stand-in-another-port"),
        pytest.param("http://localhost:3003/cpl_01", False, STANDIN, id="stand-in-another-name"),
        pytest.param("https://127.0.0.1:3003/cpl_01", False, STANDIN, id="stand-in-another-scheme"),
        pytest.param("http://user@127.0.0.1:3003/cpl_01", False, STANDIN, id="stand-in-credentials"),
        pytest.param("http://127.0.0.1:3003@evil.example/cpl_01", False, STANDIN, id="stand-in-userinfo-trick"),
    ],
)
def test_is_allowed_link(url, allowed, local_portal):
    assert is_allowed_link(url, DEFAULT_PORTAL_HOSTS, local_portal) is allowed


def session_data(subscription_ids: tuple[str, ...] = (SUBSCRIPTION_ID,), **kwargs: Any) -> dict[str, Any]:
    data: dict[str, Any] = portal_session(subscription_ids=subscription_ids, **kwargs)["data"]
    return data


def test_session_keeps_paddles_data_exactly_and_finds_each_link():
    # Given Paddle's answer with a field this function does not know
    data = session_data((SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID))
    data["new_field_from_paddle"] = {"x": 1}
    sent = copy.deepcopy(data)

    # When it is accepted
    session = PortalSession.from_paddle(data, "req-1", DEFAULT_PORTAL_HOSTS, CUSTOMER_ID)

    # Then the JSON answer is Paddle's data, untouched, with Paddle's request id, and each page has its link
    assert session.as_json() == {"data": sent, "meta": {"request_id": "req-1"}}
    [_, other] = sent["urls"]["subscriptions"]
    assert session.link("overview", SUBSCRIPTION_ID) == sent["urls"]["general"]["overview"]
    assert session.link("cancel_subscription", OTHER_SUBSCRIPTION_ID) == other["cancel_subscription"]
    assert (
        session.link("update_subscription_payment_method", OTHER_SUBSCRIPTION_ID)
        == (other["update_subscription_payment_method"])
    )
    assert session.link("cancel_subscription", "sub_" + "0" * 26) is None  # Paddle was not asked for that one


def test_session_without_subscription_links_is_valid():
    data = session_data(())
    del data["urls"]["subscriptions"]  # Paddle's schema makes it optional (absent when no ids were sent)

    assert PortalSession.from_paddle(data, None, DEFAULT_PORTAL_HOSTS).subscription_urls == {}


def changed(path: str, value: Any = None) -> dict[str, Any]:
    """The session with the dotted `path` removed (value None) or set; "0" indexes the subscriptions."""
    data = session_data()
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(changed("id"), id="no-id"),
        pytest.param(changed("urls"), id="no-urls"),
        pytest.param(changed("urls.general.overview"), id="no-overview"),
        pytest.param(changed("urls.subscriptions.0.cancel_subscription"), id="no-cancel-link"),
        pytest.param(changed("urls.general.overview", "https://evil.example/x"), id="overview-bad-host"),
        pytest.param(
            changed("urls.subscriptions.0.cancel_subscription", LINK.replace("https", "http")), id="deep-http"
        ),
        pytest.param(changed("urls.general.billing", "https://evil.example/x"), id="unknown-link-bad-host"),
        pytest.param(changed("customer_id", OTHER_CUSTOMER_ID), id="another-customers-session"),
    ],
)
def test_unusable_sessions_are_upstream_errors_that_name_no_link(data):
    with pytest.raises(PaddleResponseError) as raised:
        PortalSession.from_paddle(data, "req-1", DEFAULT_PORTAL_HOSTS, CUSTOMER_ID)

    assert "evil" not in str(raised.value)
    assert "cpl_" not in str(raised.value)


def test_a_session_that_names_no_customer_is_accepted():
    data = changed("customer_id")  # optional in Paddle's schema

    assert PortalSession.from_paddle(data, None, DEFAULT_PORTAL_HOSTS, CUSTOMER_ID).session_id == data["id"]
