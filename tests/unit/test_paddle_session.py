"""Portal links: only https links on allowed hosts ever leave the function; deep links are found by action."""

from __future__ import annotations

from typing import Any

import pytest

from paddle_portal.paddle.errors import PaddleResponseError
from paddle_portal.paddle.session import PortalSession, is_allowed_link
from paddle_portal.settings import DEFAULT_PORTAL_HOSTS
from tests.support import OTHER_SUBSCRIPTION_ID, PORTAL_TOKEN, SUBSCRIPTION_ID, portal_session

LINK = f"https://customer-portal.paddle.com/cpl_01j7zbyqs3vah3aafp4jf62qaw?action=overview&token={PORTAL_TOKEN}"


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(LINK, id="live-portal"),
        pytest.param("https://sandbox-customer-portal.paddle.com/cpl_x?token=pga_x", id="sandbox-portal"),
        pytest.param("https://customer-portal.paddle.com", id="no-path"),
        pytest.param("https://CUSTOMER-PORTAL.paddle.com/cpl_x", id="host-in-upper-case"),
    ],
)
def test_allowed_links(url: str) -> None:
    assert is_allowed_link(url, DEFAULT_PORTAL_HOSTS)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(LINK.replace("https://", "http://"), id="plain-http"),
        pytest.param("https://evil.example.com/cpl_x", id="other-host"),
        pytest.param("https://customer-portal.paddle.com.evil.example/cpl_x", id="allowed-host-as-prefix"),
        pytest.param("https://evil.customer-portal.paddle.com/cpl_x", id="subdomain-of-allowed-host"),
        pytest.param("https://customer-portal.paddle.com./cpl_x", id="trailing-dot"),
        pytest.param("https://customer-portal.paddle.com@evil.example/cpl_x", id="allowed-host-as-userinfo"),
        pytest.param("https://user:pass@customer-portal.paddle.com/cpl_x", id="credentials"),
        pytest.param("https://customer-portal.paddle.com:443/cpl_x", id="explicit-port"),
        pytest.param("https://customer-portal.paddle.com:99999/cpl_x", id="port-out-of-range"),
        pytest.param("https://customer-portal.paddle.com:abc/cpl_x", id="port-not-a-number"),
        pytest.param("https://[customer-portal.paddle.com/cpl_x", id="broken-ipv6-bracket"),
        pytest.param("//customer-portal.paddle.com/cpl_x", id="scheme-relative"),
        pytest.param("javascript:alert(1)//customer-portal.paddle.com", id="javascript"),
        pytest.param("https://customer-portal.paddle.com/cpl x", id="space"),
        pytest.param("https://customer-portal.paddle.com/cpl_x\r\nSet-Cookie: a=b", id="header-injection"),
        pytest.param("https://customer-portal.paddle.com\\@evil.example/", id="backslash"),
        pytest.param("https://customer-portal.paddle.com/\u202ecpl", id="bidi-control"),
        pytest.param("", id="empty"),
    ],
)
def test_refused_links(url: str) -> None:
    assert not is_allowed_link(url, DEFAULT_PORTAL_HOSTS)


def test_allowed_hosts_are_configurable() -> None:
    assert is_allowed_link("https://portal.example.com/x", ("portal.example.com",))
    assert not is_allowed_link(LINK, ("portal.example.com",))


def session_data(**kwargs: Any) -> dict[str, Any]:
    data: dict[str, Any] = portal_session(**kwargs)["data"]
    return data


def test_session_keeps_paddles_data_exactly() -> None:
    # Given Paddle's answer with a field this function does not know
    data = session_data(subscription_ids=(SUBSCRIPTION_ID,))
    data["new_field_from_paddle"] = {"x": 1}

    # When it is accepted
    session = PortalSession.from_paddle(data, "req-1", DEFAULT_PORTAL_HOSTS)

    # Then the JSON answer is Paddle's data, untouched, with Paddle's request id
    assert session.as_json() == {"data": data, "meta": {"request_id": "req-1"}}
    assert session.session_id == data["id"]


@pytest.mark.parametrize(
    ("action", "subscription_id", "key"),
    [
        pytest.param("overview", None, None, id="overview"),
        pytest.param("overview", SUBSCRIPTION_ID, None, id="overview-ignores-subscription"),
        pytest.param("cancel_subscription", SUBSCRIPTION_ID, "cancel_subscription", id="cancel"),
        pytest.param(
            "update_subscription_payment_method",
            OTHER_SUBSCRIPTION_ID,
            "update_subscription_payment_method",
            id="update-payment-method",
        ),
    ],
)
def test_link_for_action(action: Any, subscription_id: str | None, key: str | None) -> None:
    data = session_data(subscription_ids=(SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID))
    session = PortalSession.from_paddle(data, None, DEFAULT_PORTAL_HOSTS)

    link = session.link(action, subscription_id)

    if key is None:
        assert link == data["urls"]["general"]["overview"]
    else:
        [urls] = [sub for sub in data["urls"]["subscriptions"] if sub["id"] == subscription_id]
        assert link == urls[key]


def test_no_deep_link_for_a_subscription_paddle_did_not_return() -> None:
    session = PortalSession.from_paddle(
        session_data(subscription_ids=(SUBSCRIPTION_ID,)), "req-1", DEFAULT_PORTAL_HOSTS
    )

    assert session.link("cancel_subscription", OTHER_SUBSCRIPTION_ID) is None


def _without(path: tuple[str, ...]) -> dict[str, Any]:
    data = session_data(subscription_ids=(SUBSCRIPTION_ID,))
    node = data
    for key in path[:-1]:
        node = node[key][0] if isinstance(node[key], list) else node[key]
    del node[path[-1]]
    return data


def _with_link(path: tuple[str, ...], url: str) -> dict[str, Any]:
    data = session_data(subscription_ids=(SUBSCRIPTION_ID,))
    node = data
    for key in path[:-1]:
        node = node[key][0] if isinstance(node[key], list) else node[key]
    node[path[-1]] = url
    return data


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_without(("id",)), id="no-id"),
        pytest.param(_without(("urls",)), id="no-urls"),
        pytest.param(_without(("urls", "general", "overview")), id="no-overview"),
        pytest.param(_without(("urls", "subscriptions", "cancel_subscription")), id="no-cancel-link"),
        pytest.param(_with_link(("urls", "general", "overview"), "https://evil.example/x"), id="overview-bad-host"),
        pytest.param(
            _with_link(("urls", "subscriptions", "cancel_subscription"), "http://customer-portal.paddle.com/x"),
            id="cancel-plain-http",
        ),
        pytest.param(
            _with_link(("urls", "subscriptions", "update_subscription_payment_method"), "https://evil.example/x"),
            id="update-bad-host",
        ),
    ],
)
def test_unusable_sessions_are_upstream_errors(data: dict[str, Any]) -> None:
    with pytest.raises(PaddleResponseError) as raised:
        PortalSession.from_paddle(data, "req-1", DEFAULT_PORTAL_HOSTS)

    assert "evil" not in str(raised.value)
    assert PORTAL_TOKEN not in str(raised.value)


def test_session_without_subscription_links_is_valid() -> None:
    # Paddle's schema makes urls.subscriptions optional (absent when no ids were sent).
    data = session_data()
    del data["urls"]["subscriptions"]

    assert PortalSession.from_paddle(data, None, DEFAULT_PORTAL_HOSTS).subscription_urls == {}


# The local run's stand-in of Paddle's portal (`make run`): allowed only when the settings name its exact origin.
STANDIN = "http://127.0.0.1:3003"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        pytest.param(f"{STANDIN}/cpl_01?action=overview&token=pga_x", True, id="the-stand-in"),
        pytest.param("http://127.0.0.1:3004/cpl_01", False, id="another-port"),
        pytest.param("http://localhost:3003/cpl_01", False, id="another-name"),
        pytest.param("https://127.0.0.1:3003/cpl_01", False, id="another-scheme"),
        pytest.param("http://user@127.0.0.1:3003/cpl_01", False, id="credentials"),
        pytest.param("http://127.0.0.1:3003@evil.example/cpl_01", False, id="userinfo-trick"),
        pytest.param(LINK, True, id="paddle-still-allowed"),
    ],
)
def test_the_local_stand_in_is_allowed_only_at_its_origin(url: str, allowed: bool) -> None:
    assert is_allowed_link(url, DEFAULT_PORTAL_HOSTS, STANDIN) is allowed


def test_without_a_stand_in_no_loopback_link_is_allowed() -> None:
    assert not is_allowed_link(f"{STANDIN}/cpl_01?action=overview", DEFAULT_PORTAL_HOSTS)
