"""Signed portal links over the real handler: mint (IAM route, direct invocation), follow (the anonymous route).

Minting answers `{"data": {"url", "expires_at"}, "meta": {"request_id"}}` and never calls Paddle. Following a genuine,
unexpired link answers exactly like the IAM redirect route (a fresh Paddle session, 302 to the link it names, or
200 JSON on request). Every other link is refused with 403 (`invalid_link`, or `link_expired` for a genuine link past
its expiry) before Paddle is called and before the Paddle API key is even read.

Here: the mechanics (the link's format, minting answers, lifetimes and the clock, following, key rotation, settings).
The adversarial cases (the tampering table, foreign keys, identities on the follow route, bodies that name a customer
or stretch the lifetime, replay) are in tests/security/test_signed_link_security.py; that only IAM callers mint is in
the authorization matrix.

Secrets Manager is moto (the `aws` fixture counts GetSecretValue calls), Paddle a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from paddle_portal import signed_links
from paddle_portal.errors import ConfigurationError, InvalidRequestError
from paddle_portal.signed_links import CLOCK_SKEW_SECONDS, MAX_LIFETIME_SECONDS
from tests.events import CLAIM, FORMATS, claims_with, function_url, load_event, rest_api, with_query
from tests.integration.checks import assert_error, assert_error_page, assert_redirect, body_of
from tests.integration.conftest import CapturedLogs
from tests.support import (
    API_KEY,
    CUSTOMER_ID,
    OTHER_CUSTOMER_ID,
    OTHER_SUBSCRIPTION_ID,
    PORTAL_TOKEN,
    SUBSCRIPTION_ID,
    LambdaContext,
    PaddleStub,
    SecretsManagerCalls,
    link_of,
    paddle_error,
)

LINK_SECRET_ID = "paddle-portal/link-signing-keys"
# Obviously fake keys in the shape the template generates (letters and digits, at least 43 characters).
KEY_1 = "FAKE0link0signing0key0one0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
KEY_2 = "FAKE0link0signing0key0two0bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
GATEWAY = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
FUNCTION_URL = "https://q7xk3m2vb5n4t6y8w9z2c4r6p8s1d3f5.lambda-url.us-east-1.on.aws"
BASE_URL = "https://billing.example.com/portal-api"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
MINT_PATH = f"/customers/{CUSTOMER_ID}/portal-links"
DEEP_LINK = {"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID}
T0 = 1_800_000_000  # a fixed "now" where the clock is set
DAY = 24 * 3600


class LinkKeys:
    """The link signing secret in moto, and what rotating it does."""

    def __init__(self, aws: SecretsManagerCalls) -> None:
        self.aws = aws

    def put(self, value: Any) -> None:
        self.aws.client.put_secret_value(
            SecretId=LINK_SECRET_ID, SecretString=value if isinstance(value, str) else json.dumps(value)
        )


@pytest.fixture
def link_keys(aws: SecretsManagerCalls, monkeypatch: pytest.MonkeyPatch) -> LinkKeys:
    """The signing secret holds k1 (active); the function is pointed at it. Secrets Manager calls counted from 0."""
    aws.client.create_secret(Name=LINK_SECRET_ID, SecretString=json.dumps({"active": "k1", "k1": KEY_1}))
    aws.reset()
    monkeypatch.setenv("PORTAL_LINK_SIGNING_SECRET_ID", LINK_SECRET_ID)
    return LinkKeys(aws)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Set the clock links are minted and checked against: the one clock of the function's dependencies."""
    from dataclasses import replace

    from paddle_portal import wiring

    now = [float(T0)]
    real = wiring.dependencies
    monkeypatch.setattr(wiring, "dependencies", lambda: replace(real(), clock=lambda: now[0]))

    def set_to(at: float) -> None:
        now[0] = at

    return set_to


# --- events, from the repository's own files


def mint_event(body: Any = DEEP_LINK, **context: Any) -> dict[str, Any]:
    """`events/http_api/post_portal_links_iam.json` with another body (None: no body) and requestContext changes."""
    event = copy.deepcopy(load_event("http_api/post_portal_links_iam.json"))
    if body is None:
        del event["body"]
        event["headers"].pop("content-length")
    else:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
        event["headers"]["content-length"] = str(len(event["body"].encode()))
    event["requestContext"].update(context)
    return event


def follow_event(query: str, accept: str = BROWSER, fmt: str = "http_api") -> dict[str, Any]:
    """Following the link with this query, with no caller identity: `events/http_api/get_links_portal.json`, or the
    same over REST API v1 (stage prod; the query arrives decoded, per parameter) or a Function URL (AuthType NONE)."""
    if fmt == "rest_api":
        event = rest_api("GET", "/links/portal", auth=None, accept=accept)
        event["resource"] = event["requestContext"]["resourcePath"] = "/links/portal"
        event["pathParameters"] = None
        return with_query(event, query)
    if fmt == "function_url":
        return function_url("GET", "/links/portal", auth=None, query=query, accept=accept)
    event = copy.deepcopy(load_event("http_api/get_links_portal.json"))
    event["rawQueryString"] = query
    event["queryStringParameters"] = dict(parse_qsl(query, keep_blank_values=True)) or None
    event["headers"]["accept"] = accept
    return event


def query_of(url: str) -> str:
    return urlsplit(url).query


def minted(response: dict[str, Any], status: int = 201) -> dict[str, Any]:
    """The minted link of an HTTP answer, checked for the envelope; returns `data`."""
    assert response["statusCode"] == status, response["body"]
    assert response["headers"]["Content-Type"] == "application/json"
    assert response["headers"]["Cache-Control"] == "no-store"
    body = body_of(response)
    assert set(body) == {"data", "meta"}
    assert set(body["data"]) == {"url", "expires_at"}
    return dict(body["data"])


def fields(url: str) -> dict[str, str]:
    pairs = parse_qsl(query_of(url), keep_blank_values=True)
    assert [name for name, _ in pairs] == ["v", "c", "a", "s", "e", "k", "sig"]
    return dict(pairs)


def iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mint(invoke: Any, body: Any = DEEP_LINK) -> str:
    """A fresh link minted over the IAM route (HTTP API)."""
    return str(minted(invoke(mint_event(body)))["url"])


def refused(response: dict[str, Any], code: str) -> dict[str, Any]:
    """A link refusal as an API client sees it (JSON envelope)."""
    return assert_error(response, 403, code, fields=False)


# --- minting


def test_mint_over_http_api_derives_the_url_from_the_domain_name(
    invoke: Any, link_keys: LinkKeys, paddle: PaddleStub, aws: SecretsManagerCalls, clock: Any
) -> None:
    # Given an IAM caller on the execute-api domain and no PORTAL_LINK_BASE_URL
    event = mint_event()

    # When it mints a link for a subscription's cancel page, with the default lifetime
    data = minted(invoke(event))

    # Then the link points at this API's own follow route and says what it opens, until when
    assert data["url"].startswith(f"{GATEWAY}/links/portal?v=1&")
    assert fields(data["url"]) | {"sig": "-"} == {
        "v": "1",
        "c": CUSTOMER_ID,
        "a": "cancel_subscription",
        "s": SUBSCRIPTION_ID,
        "e": str(T0 + DAY),
        "k": "k1",
        "sig": "-",
    }
    assert data["expires_at"] == iso(T0 + DAY)
    assert body_of(invoke(event))["meta"] == {"request_id": event["requestContext"]["requestId"]}
    # And only the signing keys were read (once: cached for the second mint); Paddle was not called
    assert aws.get_secret_value == 1
    assert paddle.requests == []


def test_mint_uses_portal_link_base_url_when_set(
    invoke: Any, link_keys: LinkKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_LINK_BASE_URL", BASE_URL + "/")

    data = minted(invoke(mint_event({})))

    assert data["url"].startswith(f"{BASE_URL}/links/portal?v=1&c={CUSTOMER_ID}&a=overview&s=&e=")


def test_mint_on_a_named_stage_keeps_the_stage_in_the_url(invoke: Any, link_keys: LinkKeys) -> None:
    event = mint_event(stage="live")
    event["rawPath"] = f"/live{MINT_PATH}"

    assert minted(invoke(event))["url"].startswith(f"{GATEWAY}/live/links/portal?")


def test_mint_over_rest_api_v1(invoke: Any, link_keys: LinkKeys, aws: SecretsManagerCalls) -> None:
    event = rest_api("POST", MINT_PATH, body=DEEP_LINK)
    event["resource"] = event["requestContext"]["resourcePath"] = "/customers/{customer_id}/portal-links"
    event["pathParameters"] = {"customer_id": CUSTOMER_ID}

    response = invoke(event)

    data = minted(response)
    assert data["url"].startswith(f"{GATEWAY}/prod/links/portal?")  # REST stages are part of the URL
    assert fields(data["url"])["c"] == CUSTOMER_ID
    assert body_of(response)["meta"]["request_id"] == event["requestContext"]["requestId"]
    assert aws.get_secret_value == 1


def test_mint_over_a_function_url(invoke: Any, link_keys: LinkKeys) -> None:
    event = function_url("POST", MINT_PATH, body=DEEP_LINK, encode_base64=True)

    assert minted(invoke(event))["url"].startswith(f"{FUNCTION_URL}/links/portal?")


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        pytest.param("http://127.0.0.1:3000", "http://127.0.0.1:3000/links/portal?", id="http-loopback"),
        pytest.param("http://localhost:3000/", "http://localhost:3000/links/portal?", id="http-localhost"),
        pytest.param("http://[::1]:3000", "http://[::1]:3000/links/portal?", id="http-ipv6-loopback"),
        pytest.param("http://billing.example.com", None, id="http-elsewhere"),
        pytest.param("http://127.0.0.1.example.com", None, id="http-loopback-look-alike"),
        pytest.param("https://user:secret@billing.example.com", None, id="credentials"),
        pytest.param("https://billing example.com", None, id="space"),
        pytest.param("https://billing.example.com/?a=1", None, id="query"),
        pytest.param("https://billing.example.com:99999", None, id="bad-port"),
        pytest.param("ftp://billing.example.com", None, id="other-scheme"),
    ],
)
def test_portal_link_base_url_must_be_https_except_on_this_machine(
    invoke: Any, link_keys: LinkKeys, monkeypatch: pytest.MonkeyPatch, base_url: str, expected: str | None
) -> None:
    monkeypatch.setenv("PORTAL_LINK_BASE_URL", base_url)

    response = invoke(mint_event())

    if expected is None:
        assert_error(response, 500, "configuration_error")
    else:
        assert minted(response)["url"].startswith(expected)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"expires_in": "3600"}, "expires_in", id="lifetime-as-text"),
        pytest.param({"action": "cancel_subscription"}, "subscription_id", id="deep-link-without-subscription"),
        pytest.param({"subscription_id": "sub_123"}, "subscription_id", id="bad-subscription-id"),
        pytest.param({"action": "delete_customer", "subscription_id": SUBSCRIPTION_ID}, "action", id="bad-action"),
    ],
)
def test_mint_refuses_invalid_bodies(
    invoke: Any, link_keys: LinkKeys, aws: SecretsManagerCalls, body: dict[str, Any], field: str
) -> None:
    error = assert_error(invoke(mint_event(body)), 400, "invalid_field", fields=True)

    assert field in {item["field"] for item in error["errors"]}
    assert aws.get_secret_value == 0


def test_mint_refuses_a_query_and_a_bad_path_customer(invoke: Any, link_keys: LinkKeys) -> None:
    with_query = mint_event()
    with_query["rawQueryString"] = f"customer_id={OTHER_CUSTOMER_ID}"
    bad_path = mint_event()
    bad_path["pathParameters"] = {"customer_id": "ctm_123"}

    assert_error(invoke(with_query), 400, "invalid_field", fields=True)
    assert_error(invoke(bad_path), 400, "invalid_field", fields=True)
    assert_error(invoke(mint_event("{not json")), 400, "invalid_json")


def test_mint_lifetime_is_capped_at_30_days(invoke: Any, link_keys: LinkKeys, clock: Any) -> None:
    data = minted(invoke(mint_event({"expires_in": MAX_LIFETIME_SECONDS})))

    assert fields(data["url"])["e"] == str(T0 + MAX_LIFETIME_SECONDS)
    assert data["expires_at"] == iso(T0 + MAX_LIFETIME_SECONDS)


def test_mint_by_direct_invocation(
    invoke: Any, link_keys: LinkKeys, paddle: PaddleStub, aws: SecretsManagerCalls, monkeypatch: Any, clock: Any
) -> None:
    monkeypatch.setenv("PORTAL_LINK_BASE_URL", BASE_URL)
    payload = load_event("direct/create_portal_link.json")

    result = invoke(payload)

    assert set(result) == {"data", "meta"}
    assert result["meta"] == {"request_id": payload["correlation_id"]}
    assert result["data"]["expires_at"] == iso(T0 + payload["expires_in"])
    assert fields(result["data"]["url"]) | {"sig": "-"} == {
        "v": "1",
        "c": CUSTOMER_ID,
        "a": "update_subscription_payment_method",
        "s": OTHER_SUBSCRIPTION_ID,
        "e": str(T0 + payload["expires_in"]),
        "k": "k1",
        "sig": "-",
    }
    assert result["data"]["url"].startswith(f"{BASE_URL}/links/portal?")
    assert aws.get_secret_value == 1
    assert paddle.requests == []


def test_direct_mint_without_correlation_id_answers_the_invocation_id(
    invoke: Any, link_keys: LinkKeys, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    monkeypatch.setenv("PORTAL_LINK_BASE_URL", BASE_URL)

    result = invoke({"operation": "create_portal_link", "customer_id": CUSTOMER_ID})

    assert result["meta"] == {"request_id": context.aws_request_id}
    assert fields(result["data"]["url"])["a"] == "overview"


def test_direct_mint_needs_portal_link_base_url(
    invoke: Any, link_keys: LinkKeys, paddle: PaddleStub, aws: SecretsManagerCalls
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        invoke(load_event("direct/create_portal_link.json"))

    assert "PORTAL_LINK_BASE_URL" not in str(raised.value)  # the cause is for the logs, not the invoker
    assert aws.get_secret_value == 0
    assert paddle.requests == []


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"subscription_id": None}, id="deep-link-without-subscription"),
        pytest.param({"subscription_ids": [SUBSCRIPTION_ID]}, id="session-field"),
    ],
)
def test_direct_mint_refuses_invalid_payloads(
    invoke: Any, link_keys: LinkKeys, monkeypatch: pytest.MonkeyPatch, aws: SecretsManagerCalls, changes: Any
) -> None:
    monkeypatch.setenv("PORTAL_LINK_BASE_URL", BASE_URL)
    payload = {**load_event("direct/create_portal_link.json"), **changes}
    payload = {name: value for name, value in payload.items() if value is not None}

    with pytest.raises(InvalidRequestError):
        invoke(payload)
    assert aws.get_secret_value == 0


# --- following


@pytest.mark.parametrize("fmt", FORMATS)
def test_genuine_link_opens_exactly_what_it_names(
    invoke: Any, link_keys: LinkKeys, paddle: PaddleStub, aws: SecretsManagerCalls, fmt: str
) -> None:
    # Given a link minted for the cancel page of subscription 1, and Paddle ready to create a session
    url = mint(invoke)
    sent = paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))

    # When a browser follows it, over each kind of event, with no caller identity at all
    response = invoke(follow_event(query_of(url), fmt=fmt))

    # Then a fresh session was created for exactly what the link names, and the browser sent to its deep link
    assert_redirect(response, link_of(sent, "cancel_subscription", SUBSCRIPTION_ID))
    assert response["headers"]["Referrer-Policy"] == "no-referrer"
    [request] = paddle.requests
    assert request.path == f"/customers/{CUSTOMER_ID}/portal-sessions"
    assert paddle.sent_json() == {"subscription_ids": [SUBSCRIPTION_ID]}
    # And the signing keys were read once (cached between mint and follow), the API key once
    assert aws.get_secret_value == 2


def test_every_follow_creates_a_fresh_session(invoke: Any, link_keys: LinkKeys, paddle: PaddleStub) -> None:
    url = mint(invoke, {})
    sent = paddle.creates_session(CUSTOMER_ID)

    first, second = invoke(follow_event(query_of(url))), invoke(follow_event(query_of(url)))

    assert_redirect(first, link_of(sent, "overview", None))
    assert_redirect(second, link_of(sent, "overview", None))
    assert len(paddle.requests) == 2  # a link is not consumed: an email scanner's visit does not break it
    assert paddle.sent_json() == {}


def test_follow_with_accept_json_answers_the_session(invoke: Any, link_keys: LinkKeys, paddle: PaddleStub) -> None:
    url = mint(invoke)
    sent = paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))

    response = invoke(follow_event(query_of(url), accept="application/json"))

    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "no-store"
    assert body_of(response) == {"data": sent["data"], "meta": {"request_id": sent["meta"]["request_id"]}}


def test_equivalent_percent_encoding_is_the_same_link(invoke: Any, link_keys: LinkKeys, paddle: PaddleStub) -> None:
    # The signature covers the decoded values: a mail client that re-encodes `_` or `-` does not break the link.
    url = mint(invoke)
    sent = paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))
    query = query_of(url).replace("_", "%5F").replace("-", "%2D")

    assert_redirect(invoke(follow_event(query)), link_of(sent, "cancel_subscription", SUBSCRIPTION_ID))


# --- expiry and the clock


@pytest.mark.parametrize(
    ("after_expiry", "opens"),
    [
        pytest.param(-1, True, id="a-second-before"),
        pytest.param(0, True, id="at-expiry"),
        pytest.param(CLOCK_SKEW_SECONDS - 1, True, id="within-the-skew-allowance"),
        pytest.param(CLOCK_SKEW_SECONDS, False, id="skew-allowance-over"),
        pytest.param(DAY, False, id="a-day-later"),
    ],
)
def test_expiry_boundary(
    invoke: Any, link_keys: LinkKeys, paddle: PaddleStub, clock: Any, after_expiry: int, opens: bool
) -> None:
    # Policy: a link is good until its expiry plus CLOCK_SKEW_SECONDS (clock steps between Lambda hosts), no longer.
    query = query_of(mint(invoke, {"action": "overview", "expires_in": 3600}))
    sent = paddle.creates_session(CUSTOMER_ID)

    clock(T0 + 3600 + after_expiry)
    response = invoke(follow_event(query, accept="application/json"))

    if opens:
        assert response["statusCode"] == 200, response["body"]
        assert body_of(response)["data"] == sent["data"]
    else:
        refused(response, "link_expired")
        assert paddle.requests == []


@pytest.mark.parametrize(
    ("follower_behind", "opens"),
    [
        pytest.param(0, True, id="same-clock"),
        pytest.param(CLOCK_SKEW_SECONDS, True, id="follower-behind-by-the-allowance"),
        pytest.param(CLOCK_SKEW_SECONDS + 1, False, id="follower-further-behind"),
    ],
)
def test_clock_skew_on_a_maximum_lifetime_link(
    invoke: Any, link_keys: LinkKeys, paddle: PaddleStub, clock: Any, follower_behind: int, opens: bool
) -> None:
    # A link never claims more than 30 days from the clock that checks it (beyond that, even a genuine signature is
    # refused: a leaked key cannot make links that outlive the cap). A follower's clock behind the minter's by more
    # than the allowance therefore refuses a 30-day link until the clocks agree again.
    query = query_of(mint(invoke, {"action": "overview", "expires_in": MAX_LIFETIME_SECONDS}))
    paddle.creates_session(CUSTOMER_ID)

    clock(T0 - follower_behind)
    response = invoke(follow_event(query, accept="application/json"))

    if opens:
        assert response["statusCode"] == 200, response["body"]
    else:
        refused(response, "invalid_link")
        assert paddle.requests == []


# --- key rotation


def test_key_rotation_keeps_old_links_until_their_key_is_removed(
    invoke: Any,
    link_keys: LinkKeys,
    paddle: PaddleStub,
    aws: SecretsManagerCalls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECRET_MAX_AGE_SECONDS", "0")  # every request sees the secret as it is now
    sent = paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))
    deep_link = link_of(sent, "cancel_subscription", SUBSCRIPTION_ID)

    # Given a link signed with k1
    old = query_of(mint(invoke))
    assert dict(parse_qsl(old))["k"] == "k1"

    # When k2 becomes the active key and k1 stays
    link_keys.put({"active": "k2", "k1": KEY_1, "k2": KEY_2})
    new = query_of(mint(invoke))

    # Then new links are signed with k2, and old and new links both open
    assert dict(parse_qsl(new))["k"] == "k2"
    assert_redirect(invoke(follow_event(old)), deep_link)
    assert_redirect(invoke(follow_event(new)), deep_link)

    # When k1 is removed
    link_keys.put({"active": "k2", "k2": KEY_2})
    calls_before = len(paddle.requests)

    # Then links signed with it are refused (the revocation), those of k2 still open
    refused(invoke(follow_event(old, accept="application/json")), "invalid_link")
    assert len(paddle.requests) == calls_before
    assert_redirect(invoke(follow_event(new)), deep_link)
    # And each request read the secret anew (max age 0): what makes the removal take effect
    assert aws.get_secret_value >= 6


def test_rotation_takes_effect_when_the_cached_keys_expire(
    invoke: Any, link_keys: LinkKeys, paddle: PaddleStub, aws: SecretsManagerCalls
) -> None:
    # With the default cache (SECRET_MAX_AGE_SECONDS=300), a warm function keeps the keys it read: a removed key
    # still verifies on it until the cache expires. That is the delay the README's rotation procedure waits out.
    old = query_of(mint(invoke, {}))
    paddle.creates_session(CUSTOMER_ID)

    link_keys.put({"active": "k2", "k2": KEY_2})
    response = invoke(follow_event(old, accept="application/json"))

    assert response["statusCode"] == 200
    assert aws.get_secret_value == 2  # signing keys once (cached), API key once


# --- secrets stay secret


def test_links_carry_no_paddle_token_and_no_api_key(
    invoke: Any, link_keys: LinkKeys, paddle: PaddleStub, logs: CapturedLogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Paddle has already handed out sessions (so its token is somewhere in this execution environment)
    monkeypatch.setenv("PORTAL_LINK_BASE_URL", BASE_URL)
    paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))
    first = mint(invoke)
    invoke(follow_event(query_of(first)))

    # When links are minted over HTTP and directly
    response = invoke(mint_event())
    direct = invoke(load_event("direct/create_portal_link.json"))

    # Then neither the link nor the answer holds a Paddle token, the API key or a signing key
    for text in (response["body"], json.dumps(direct)):
        assert "pga_" not in text
        assert PORTAL_TOKEN not in text
        assert API_KEY not in text
        assert "pdl_" not in text
        assert KEY_1 not in text
    # And the logs hold no link and no signature
    for url in (first, minted(response)["url"], direct["data"]["url"]):
        assert url not in logs.text
        assert dict(parse_qsl(query_of(url)))["sig"] not in logs.text
    assert KEY_1 not in logs.text


# --- configuration errors


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(None, id="secret-missing"),
        pytest.param("not json", id="not-json"),
        pytest.param({"k1": KEY_1}, id="no-active-key"),
        pytest.param({"active": "k2", "k1": KEY_1}, id="active-key-absent"),
        pytest.param({"active": "k1", "k1": "short"}, id="key-too-short"),
        pytest.param({"api_key": API_KEY}, id="the-paddle-key-secret"),
    ],
)
@pytest.mark.parametrize("route", ["mint", "follow"])
def test_a_missing_or_malformed_signing_secret_is_a_configuration_error(
    invoke: Any,
    aws: SecretsManagerCalls,
    paddle: PaddleStub,
    monkeypatch: pytest.MonkeyPatch,
    secret: Any,
    route: str,
) -> None:
    secret_id = "paddle-portal/link-keys-under-test"
    if secret is not None:
        aws.client.create_secret(Name=secret_id, SecretString=secret if isinstance(secret, str) else json.dumps(secret))
    monkeypatch.setenv("PORTAL_LINK_SIGNING_SECRET_ID", secret_id)
    keys = signed_links.SigningKeys.parse(json.dumps({"active": "k1", "k1": KEY_1}))
    query = signed_links.sign(signed_links.claims_for(CUSTOMER_ID, "overview", None, 3600, time.time()), keys)
    event = mint_event() if route == "mint" else follow_event(query, accept="application/json")

    error = assert_error(invoke(event), 500, "configuration_error")

    assert "secret" not in error["detail"].lower()  # the cause is in the logs only
    assert paddle.requests == []


@pytest.mark.parametrize("route", ["mint", "follow"])
def test_links_without_a_signing_secret_setting_are_a_configuration_error(
    invoke: Any, aws: SecretsManagerCalls, paddle: PaddleStub, logs: CapturedLogs, route: str
) -> None:
    sample_link = load_event("http_api/get_links_portal.json")["rawQueryString"]
    event = mint_event() if route == "mint" else follow_event(sample_link, accept="application/json")

    assert_error(invoke(event), 500, "configuration_error")
    assert aws.get_secret_value == 0
    assert paddle.requests == []
    assert "PORTAL_LINK_SIGNING_SECRET_ID" in logs.text  # the operator learns what to set


# --- browsers get pages for the other failures of the follow route too


def test_a_browser_gets_a_page_when_paddle_does_not_know_the_customer(
    invoke: Any, link_keys: LinkKeys, paddle: PaddleStub
) -> None:
    url = mint(invoke)
    paddle.answers(404, paddle_error("not_found"))

    page = assert_error_page(invoke(follow_event(query_of(url))), status=404)

    assert "This link cannot be opened" in page


def test_a_browser_gets_retry_after_when_paddle_is_rate_limited(
    invoke: Any, link_keys: LinkKeys, paddle: PaddleStub, fast_backoff: None
) -> None:
    url = mint(invoke)
    paddle.answers(429, paddle_error("too_many_requests"), headers={"Retry-After": "30"})

    response = invoke(follow_event(query_of(url)))

    assert_error_page(response, status=429)
    assert response["headers"]["Retry-After"] == "30"


# --- a signed-in user's page: POST /portal-links (JWT) mints a short-lived link to the token's own customer, which the
# page then navigates to (a navigation cannot carry a bearer token; the 302 happens on the link).


def jwt_mint_event(body: Any = None, claims_: dict[str, Any] | None = None) -> dict[str, Any]:
    """`events/http_api/post_portal_links_jwt.json` (ID token, claim = CUSTOMER_ID, body `{}` base64) with another
    body or other claims."""
    event = copy.deepcopy(load_event("http_api/post_portal_links_jwt.json"))
    if body is not None:
        event["body"], event["isBase64Encoded"] = json.dumps(body), False
    if claims_ is not None:
        event["requestContext"]["authorizer"]["jwt"]["claims"] = claims_
    return event


def test_signed_in_user_gets_a_one_minute_link_to_their_own_portal(
    invoke: Any, link_keys: LinkKeys, paddle: PaddleStub, aws: SecretsManagerCalls, clock: Any
) -> None:
    # Given a signed-in user's page asking for a link with an empty body
    response = invoke(jwt_mint_event())

    # Then the link is the token's customer's overview, valid one minute; nobody but the signing secret was asked
    data = minted(response)
    link = fields(data["url"])
    assert data["url"].startswith(f"{GATEWAY}/links/portal?")
    assert (link["c"], link["a"], link["s"], link["e"]) == (CUSTOMER_ID, "overview", "", str(T0 + 60))
    assert data["expires_at"] == iso(T0 + 60)
    assert paddle.requests == []
    assert aws.get_secret_value == 1  # the signing keys; the API key is read when the link is followed

    # And following it (the page's navigation, no bearer token) opens that customer's portal
    sent = paddle.creates_session(CUSTOMER_ID)
    assert_redirect(invoke(follow_event(query_of(data["url"]))), link_of(sent, "overview", None))


def test_signed_in_user_link_takes_the_mint_body_and_lasts_at_most_five_minutes(
    invoke: Any, link_keys: LinkKeys, clock: Any
) -> None:
    body = DEEP_LINK | {"expires_in": 300}

    link = fields(minted(invoke(jwt_mint_event(body)))["url"])

    assert (link["a"], link["s"], link["e"]) == ("cancel_subscription", SUBSCRIPTION_ID, str(T0 + 300))


def test_signed_in_user_link_in_verified_email_mode_is_for_the_emails_customer(
    invoke: Any, link_keys: LinkKeys, paddle: PaddleStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the email mode, a token with a verified email and no customer claim, and Paddle knowing that email
    monkeypatch.setenv("CUSTOMER_LOOKUP", "verified_email")
    token = {k: v for k, v in claims_with(...).items() if k != CLAIM}
    found = {"id": OTHER_CUSTOMER_ID, "email": token["email"], "status": "active"}
    paddle.server.expect_request("/customers", method="GET").respond_with_json(
        {"data": [found], "meta": {"request_id": "r-1", "pagination": {"per_page": 50, "next": "", "has_more": False}}}
    )

    link = fields(minted(invoke(jwt_mint_event(claims_=token)))["url"])

    # Then the link is for the one customer Paddle found by that email, and minting created no session
    assert link["c"] == OTHER_CUSTOMER_ID
    assert [(r.method, r.path) for r in paddle.requests] == [("GET", "/customers")]
