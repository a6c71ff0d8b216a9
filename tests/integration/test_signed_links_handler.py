"""Signed portal links through the real handler: minting (IAM and JWT routes, direct invocation) without calling
Paddle; following a genuine link creates a fresh session for exactly what it names; key rotation; configuration
errors; pages for browsers. The link's rules are tables in tests/unit; an attacker's links and bodies are in
tests/security/test_signed_link_security.py. Secrets Manager is moto (`aws` counts GetSecretValue)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from paddle_portal.errors import ConfigurationError
from tests.events import claims_with, load_event, route_event
from tests.integration.checks import assert_error, assert_error_page, assert_redirect, body_of
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, SUBSCRIPTION_ID, link_of, paddle_error

LINK_SECRET_ID = "paddle-portal/link-signing-keys"
# Obviously fake keys in the shape the template generates (letters and digits, at least 43 characters).
KEY_1 = "FAKE0link0signing0key0one0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
KEY_2 = "FAKE0link0signing0key0two0bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
GATEWAY = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
DEEP_LINK = {"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID}
T0 = 1_800_000_000  # "now", where the clock is set


@pytest.fixture
def link_keys(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], None]:
    """The signing secret holds k1 (active); the function is pointed at it; GetSecretValue counted from 0. Returns
    what rotates the keys."""
    aws.client.create_secret(Name=LINK_SECRET_ID, SecretString=json.dumps({"active": "k1", "k1": KEY_1}))
    aws.reset()
    monkeypatch.setenv("PORTAL_LINK_SIGNING_SECRET_ID", LINK_SECRET_ID)
    return lambda keys: aws.client.put_secret_value(SecretId=LINK_SECRET_ID, SecretString=json.dumps(keys))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Links are minted and checked at T0: the one clock of the function's dependencies."""
    from dataclasses import replace

    from paddle_portal import wiring

    real = wiring.dependencies
    monkeypatch.setattr(wiring, "dependencies", lambda: replace(real(), clock=lambda: float(T0)))


def mint_event(body: Any = DEEP_LINK) -> dict[str, Any]:
    """`events/http_api/post_portal_links_iam.json` with another body."""
    return route_event("http_api", "link_mint", body=body)


def follow_event(query: str, accept: str = "text/html", fmt: str = "http_api") -> dict[str, Any]:
    """Following a link, with no caller identity (over REST API v1 the query is decoded, per parameter)."""
    return route_event(fmt, "link_follow", "none", query=query, accept=accept)


def minted(response: dict[str, Any]) -> str:
    """The link of a 201 minting answer."""
    assert response["statusCode"] == 201, response["body"]
    assert response["headers"]["Cache-Control"] == "no-store"
    return str(body_of(response)["data"]["url"])


def query_of(url: str) -> str:
    return urlsplit(url).query


def fields(url: str) -> dict[str, str]:
    return dict(parse_qsl(query_of(url), keep_blank_values=True))


def iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- minting


@pytest.mark.parametrize("caller", ["http_api", "direct"])
def test_a_minted_link_names_what_it_opens_and_until_when(
    caller, invoke, link_keys, paddle, aws, clock, context, monkeypatch
):
    # Given an IAM caller on the execute-api domain, or a direct invoker (no correlation id) and the base URL set
    if caller == "direct":
        monkeypatch.setenv("PORTAL_LINK_BASE_URL", GATEWAY)
    direct = {"operation": "create_portal_link", "customer_id": CUSTOMER_ID, **DEEP_LINK}
    event = mint_event() if caller == "http_api" else direct

    # When it mints a deep link with the default lifetime, twice
    first, second = [body_of(answer) if caller == "http_api" else answer for answer in (invoke(event), invoke(event))]

    # Then the link points at this API's follow route, says exactly what it opens and until when (a day)
    url = first["data"]["url"]
    assert url.startswith(f"{GATEWAY}/links/portal?v=1&")
    link = fields(url)
    assert list(link) == ["v", "c", "a", "s", "e", "k", "sig"]  # nothing else: no Paddle token, no key
    assert list(link.values())[:-1] == ["1", CUSTOMER_ID, "cancel_subscription", SUBSCRIPTION_ID, str(T0 + 86400), "k1"]
    assert first["data"] == {"url": url, "expires_at": iso(T0 + 86400)} == second["data"]
    request_id = event["requestContext"]["requestId"] if caller == "http_api" else context.aws_request_id
    assert first["meta"] == {"request_id": request_id}
    # And only the signing keys were read (once: cached); Paddle was not called
    assert aws.get_secret_value == 1
    assert paddle.requests == []


def test_direct_minting_needs_portal_link_base_url(invoke, link_keys, paddle, aws):
    with pytest.raises(ConfigurationError) as raised:
        invoke(load_event("direct/create_portal_link.json"))

    assert "PORTAL_LINK_BASE_URL" not in str(raised.value)  # the cause is for the logs, not the invoker
    assert (aws.get_secret_value, paddle.requests) == (0, [])


# --- following


@pytest.mark.parametrize("fmt", ["http_api", "rest_api", "function_url"])
def test_genuine_link_opens_exactly_what_it_names(fmt, invoke, link_keys, paddle, aws):
    # Given a link minted for the cancel page of subscription 1, and Paddle ready to create a session
    query = query_of(minted(invoke(mint_event())))
    sent = paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))

    # When it is followed twice, over each kind of event, with no caller identity (JSON asked for over REST)
    accept = "application/json" if fmt == "rest_api" else "text/html"
    answers = [invoke(follow_event(query, accept, fmt)) for _ in range(2)]

    # Then each follow created a fresh session for exactly what the link names (a link is not consumed: an email
    # scanner's visit does not break it), and the browser is sent to its deep link
    for response in answers:
        if fmt == "rest_api":
            assert body_of(response) == {"data": sent["data"], "meta": {"request_id": sent["meta"]["request_id"]}}
        else:
            assert_redirect(response, link_of(sent, "cancel_subscription", SUBSCRIPTION_ID))
    assert [request.path for request in paddle.requests] == [paddle.path(CUSTOMER_ID)] * 2
    assert paddle.sent_json() == {"subscription_ids": [SUBSCRIPTION_ID]}
    # And the signing keys were read once (cached between mint and follow), the API key once
    assert aws.get_secret_value == 2


def test_key_rotation_keeps_old_links_until_their_key_is_removed(invoke, link_keys, paddle, aws, monkeypatch):
    monkeypatch.setenv("SECRET_MAX_AGE_SECONDS", "0")  # every request sees the secret as it is now
    deep_link = link_of(paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,)), "cancel_subscription", SUBSCRIPTION_ID)

    # Given a link signed with k1
    old = minted(invoke(mint_event()))
    assert fields(old)["k"] == "k1"

    # When k2 becomes the active key and k1 stays
    link_keys({"active": "k2", "k1": KEY_1, "k2": KEY_2})
    new = minted(invoke(mint_event()))

    # Then new links are signed with k2, and old and new links both open
    assert fields(new)["k"] == "k2"
    assert_redirect(invoke(follow_event(query_of(old))), deep_link)
    assert_redirect(invoke(follow_event(query_of(new))), deep_link)

    # When k1 is removed
    link_keys({"active": "k2", "k2": KEY_2})
    calls_before = len(paddle.requests)

    # Then links signed with it are refused (the revocation), those of k2 still open
    assert_error(invoke(follow_event(query_of(old), "application/json")), 403, "invalid_link")
    assert len(paddle.requests) == calls_before
    assert_redirect(invoke(follow_event(query_of(new))), deep_link)


@pytest.mark.parametrize("route", ["mint", "follow"])
@pytest.mark.parametrize(
    "secret", [None, {"active": "k2", "k1": KEY_1}, ...], ids=["secret-missing", "active-key-absent", "setting-unset"]
)
def test_a_missing_or_malformed_signing_secret_is_a_configuration_error(
    secret, route, invoke, aws, paddle, logs, monkeypatch
):
    if secret is not ...:
        if secret is not None:
            aws.client.create_secret(Name="paddle-portal/keys-under-test", SecretString=json.dumps(secret))
        monkeypatch.setenv("PORTAL_LINK_SIGNING_SECRET_ID", "paddle-portal/keys-under-test")
    sample_link = load_event("http_api/get_links_portal.json")["rawQueryString"]

    error = assert_error(
        invoke(mint_event() if route == "mint" else follow_event(sample_link, "application/json")),
        500,
        "configuration_error",
    )

    assert "secret" not in error["detail"].lower()  # the cause is in the logs only
    assert paddle.requests == []
    if secret is ...:
        assert "PORTAL_LINK_SIGNING_SECRET_ID" in logs.text  # the operator learns what to set
        assert aws.get_secret_value == 0


@pytest.mark.usefixtures("fast_backoff")
@pytest.mark.parametrize(("status", "code"), [(404, "not_found"), (429, "too_many_requests")])
def test_a_browser_gets_a_page_when_paddle_refuses(status, code, invoke, link_keys, paddle):
    query = query_of(minted(invoke(mint_event())))
    paddle.answers(status, paddle_error(code), headers={"Retry-After": "30"} if status == 429 else None)

    response = invoke(follow_event(query))

    page = assert_error_page(response, status)
    assert ("Your link is fine" if status == 429 else "This link cannot be opened") in page
    assert response["headers"].get("Retry-After") == ("30" if status == 429 else None)


# --- a signed-in user's page: POST /portal-links (JWT) mints a short-lived link to the token's own customer, which the
# page then navigates to (a navigation cannot carry a bearer token; the 302 happens on the link).


def test_signed_in_user_gets_a_one_minute_link_to_their_own_portal(invoke, link_keys, paddle, aws, clock):
    # Given a signed-in user's page asking for a link with an empty body (events/http_api/post_portal_links_jwt.json)
    response = invoke(load_event("http_api/post_portal_links_jwt.json"))

    # Then the link is the token's customer's overview, valid one minute; nobody but the signing secret was asked
    url = minted(response)
    assert url.startswith(f"{GATEWAY}/links/portal?")
    assert [fields(url)[name] for name in "case"] == [CUSTOMER_ID, "overview", "", str(T0 + 60)]
    assert body_of(response)["data"]["expires_at"] == iso(T0 + 60)
    assert paddle.requests == []
    assert aws.get_secret_value == 1  # the signing keys; the API key is read when the link is followed

    # And following it (the page's navigation, no bearer token) opens that customer's portal
    sent = paddle.creates_session(CUSTOMER_ID)
    assert_redirect(invoke(follow_event(query_of(url))), link_of(sent, "overview", None))


def test_signed_in_user_link_in_verified_email_mode_is_for_the_emails_customer(invoke, link_keys, paddle, monkeypatch):
    # Given the email mode, a token with a verified email and no customer claim, and Paddle knowing that email
    monkeypatch.setenv("CUSTOMER_LOOKUP", "verified_email")
    token = claims_with(...)
    found = {"id": OTHER_CUSTOMER_ID, "email": token["email"], "status": "active"}
    paddle.server.expect_request("/customers", method="GET").respond_with_json(
        {"data": [found], "meta": {"request_id": "r-1", "pagination": {"per_page": 50, "next": "", "has_more": False}}}
    )

    url = minted(invoke(route_event("http_api", "jwt_mint", "jwt", token)))

    # Then the link is for the one customer Paddle found by that email, and minting created no session
    assert fields(url)["c"] == OTHER_CUSTOMER_ID
    assert [(r.method, r.path) for r in paddle.requests] == [("GET", "/customers")]
