"""CUSTOMER_LOOKUP=verified_email through the real handler: a JWT caller's customer is the one active Paddle customer
with the token's verified email (`GET /customers?email=…&status=active`, real urllib3 over a loopback server). Which
claims count is a table in tests/unit/test_auth.py; here each refusal comes before Paddle is called or a secret read."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from paddle_portal.portal import email_hash
from tests.events import CLAIM, claims_with, route_event, with_query
from tests.integration.checks import assert_error, assert_refused, body_of
from tests.support import API_KEY, CUSTOMER_ID, OTHER_CUSTOMER_ID, PaddleStub

EMAIL = "Jane.Doe+billing@example.com"


def customer(customer_id: str, email: str = EMAIL) -> dict[str, Any]:
    """A customer as Paddle's list-customers answer holds it (schema `customer`, the fields that matter here)."""
    return {"id": customer_id, "name": "Jane Doe", "email": email, "status": "active", "custom_data": None}


def lists(paddle: PaddleStub, *customers: Any, status: int = 200) -> None:
    answer: dict[str, Any] = {"data": list(customers), "meta": {"request_id": "r-1", "pagination": {"has_more": False}}}
    if status != 200:
        answer = {"error": {"type": "request_error", "code": "forbidden", "detail": "x"}, "meta": {"request_id": "r-1"}}
    paddle.server.expect_request("/customers", method="GET").respond_with_json(answer, status=status)


def lookups(paddle: PaddleStub) -> list[dict[str, str]]:
    return [dict(parse_qsl(r.query_string.decode())) for r in paddle.requests if r.method == "GET"]


def sessions(paddle: PaddleStub) -> list[str]:
    return [r.path for r in paddle.requests if r.method == "POST"]


def token(email: Any = EMAIL, verified: Any = "true", **extra: Any) -> dict[str, Any]:
    """ID-token claims without the customer claim, with this email and email_verified (... : absent)."""
    claims = {k: v for k, v in claims_with(...).items() if k not in ("email", "email_verified")}
    claims |= {name: value for name, value in (("email", email), ("email_verified", verified)) if value is not ...}
    return claims | extra


def portal(claims: dict[str, Any], fmt: str = "http_api", accept: str = "text/html") -> dict[str, Any]:
    """GET /portal (the overview) with these claims."""
    return route_event(fmt, "jwt_get", "jwt", claims, query="", accept=accept)


@pytest.fixture(autouse=True)
def lookup_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMER_LOOKUP", "verified_email")


@pytest.mark.parametrize(
    ("fmt", "verified"), [("http_api", "true"), ("rest_api", True)], ids=["http-api-string", "rest-api-json-true"]
)
def test_verified_email_opens_that_customers_portal(fmt, verified, invoke, paddle, aws):
    # Given Paddle knows exactly one active customer with the token's email
    lists(paddle, customer(CUSTOMER_ID))
    sent = paddle.creates_session(CUSTOMER_ID)

    # When the signed-in user opens the portal (the token has no customer claim)
    response = invoke(portal(token(verified=verified), fmt))

    # Then the lookup asked for exactly that one address among active customers, and the portal is that customer's
    assert response["statusCode"] == 302
    assert response["headers"]["Location"] == sent["data"]["urls"]["general"]["overview"]
    assert lookups(paddle) == [{"email": EMAIL, "status": "active"}]
    lookup = next(r for r in paddle.requests if r.method == "GET")
    assert (lookup.headers["Authorization"], lookup.headers["Paddle-Version"]) == (f"Bearer {API_KEY}", "1")
    assert sessions(paddle) == [paddle.path(CUSTOMER_ID)]


def test_post_route_and_json_answer_use_the_looked_up_customer(invoke, paddle, aws):
    lists(paddle, customer(CUSTOMER_ID))
    sent = paddle.creates_session(CUSTOMER_ID)

    created = invoke(route_event("http_api", "jwt_post", "jwt", token()))
    as_json = invoke(portal(token(), accept="application/json"))

    assert (created["statusCode"], as_json["statusCode"]) == (201, 200)
    assert body_of(created)["data"] == body_of(as_json)["data"] == sent["data"]


def test_found_customers_are_cached_and_misses_are_not(invoke, paddle, aws):
    # Given no customer has the email yet: a miss is asked again (the customer may check out in between)
    lists(paddle)
    for _ in range(2):
        assert_error(invoke(portal(token())), 404, "not_found")
    assert len(lookups(paddle)) == 2

    # When the customer now exists (the checkout completed)
    paddle.server.clear()
    lists(paddle, customer(CUSTOMER_ID))
    paddle.creates_session(CUSTOMER_ID)
    answers = [invoke(portal(token(email=EMAIL.upper()))) for _ in range(3)]

    # Then it is found once and reused (the cache ignores the address's case), one session per click
    assert [answer["statusCode"] for answer in answers] == [302, 302, 302]
    assert (len(lookups(paddle)), len(sessions(paddle))) == (1, 3)


def test_no_cache_when_its_age_is_zero(invoke, paddle, aws, monkeypatch):
    monkeypatch.setenv("CUSTOMER_LOOKUP_MAX_AGE_SECONDS", "0")
    lists(paddle, customer(CUSTOMER_ID))
    paddle.creates_session(CUSTOMER_ID)

    assert [invoke(portal(token()))["statusCode"] for _ in range(2)] == [302, 302]
    assert len(lookups(paddle)) == 2


def test_no_match_is_404_with_a_readable_detail(invoke, paddle, aws):
    lists(paddle)

    response = invoke(portal(token()))

    assert_error(response, 404, "not_found")
    assert "No active Paddle customer has this account's email address" in body_of(response)["error"]["detail"]
    assert EMAIL not in response["body"]
    assert sessions(paddle) == []


def test_several_matches_are_refused_never_guessed(invoke, paddle, aws):
    lists(paddle, customer(CUSTOMER_ID), customer(OTHER_CUSTOMER_ID, EMAIL.lower()))

    assert_error(invoke(portal(token())), 409, "ambiguous_customer")
    assert sessions(paddle) == []


@pytest.mark.parametrize(
    "entries",
    [
        [customer(CUSTOMER_ID, "someone.else@example.com")],
        [customer("ctm_NOT_AN_ID")],
        [{"id": CUSTOMER_ID}],
        [CUSTOMER_ID],
    ],
    ids=["other-email", "malformed-id", "no-email", "not-an-object"],
)
def test_entries_that_are_not_a_match_are_not_counted(entries, invoke, paddle, aws):
    lists(paddle, *entries)

    assert_error(invoke(portal(token())), 404, "not_found")
    assert sessions(paddle) == []


@pytest.mark.parametrize("verified", ["false", ...], ids=["false", "absent"])
def test_an_email_that_is_not_verified_is_403_before_paddle(verified, invoke, paddle, aws):
    response = invoke(portal(token(verified=verified)))

    assert_refused(response, 403, "forbidden", paddle, aws)
    assert "email_verified" in body_of(response)["error"]["detail"]


@pytest.mark.parametrize(
    "email",
    [f"{EMAIL},victim@example.com", [EMAIL, "v@x.com"]],
    ids=["two-addresses", "list"],
)
def test_an_email_that_is_not_one_plausible_address_is_403_before_paddle(email, invoke, paddle, aws):
    # Paddle's `email` filter is a comma-separated list: no claim may widen it to other customers
    assert_refused(invoke(portal(token(email=email))), 403, "forbidden", paddle, aws)


def test_the_claim_and_the_request_cannot_name_another_customer(invoke, paddle, aws):
    # Given a token whose customer claim names someone else, and a request naming a customer too
    lists(paddle, customer(CUSTOMER_ID))
    paddle.creates_session(CUSTOMER_ID)
    event = portal(token(**{CLAIM: OTHER_CUSTOMER_ID}))
    event["pathParameters"] = {"customer_id": OTHER_CUSTOMER_ID}
    event["headers"]["x-customer-email"] = "victim@example.com"

    response = invoke(event)

    # Then the verified email alone decides
    assert response["statusCode"] == 302
    assert lookups(paddle) == [{"email": EMAIL, "status": "active"}]
    assert sessions(paddle) == [paddle.path(CUSTOMER_ID)]


def test_an_invalid_request_is_refused_before_the_lookup(invoke, paddle, aws):
    event = with_query(portal(token()), "action=cancel_subscription")  # a deep link needs its subscription

    assert_refused(invoke(event), 400, "invalid_field", paddle, aws)


def test_claim_mode_ignores_the_email_and_no_caller_can_switch_modes(invoke, paddle, aws, monkeypatch):
    # Given the default mode (claim) and a token with a verified email but no customer claim
    monkeypatch.delenv("CUSTOMER_LOOKUP")
    by_query = with_query(portal(token()), "customer_lookup=verified_email")
    by_header = portal(token())
    by_header["headers"]["x-customer-lookup"] = "verified_email"

    # Then neither a query parameter nor a header makes the email count
    assert_refused(invoke(by_query), 403, "forbidden", paddle, aws)
    refused = invoke(by_header)
    assert_refused(refused, 403, "forbidden", paddle, aws)
    assert CLAIM in body_of(refused)["error"]["detail"]  # the refusal names the claim the route wanted


def test_iam_routes_are_not_affected(invoke, paddle, aws):
    paddle.creates_session(CUSTOMER_ID)

    assert invoke(route_event("http_api", "iam_get", "iam"))["statusCode"] == 302
    assert lookups(paddle) == []


def test_a_key_without_customer_read_is_a_configuration_error_named_in_the_logs(invoke, paddle, aws, logs):
    lists(paddle, status=403)

    assert_error(invoke(portal(token())), 500, "configuration_error")
    assert "customer.read" in logs.text
    assert sessions(paddle) == []


def test_the_lookup_is_retried_like_the_session_call(invoke, paddle, aws, fast_backoff):
    # Given Paddle fails the lookup once with a 500, then answers
    paddle.server.expect_oneshot_request("/customers", method="GET").respond_with_json({}, status=500)
    lists(paddle, customer(CUSTOMER_ID))
    paddle.creates_session(CUSTOMER_ID)

    assert invoke(portal(token()))["statusCode"] == 302
    assert len(lookups(paddle)) == 2


def test_logs_name_the_email_only_by_its_hash_and_metrics_count_lookups(invoke, paddle, aws, logs, capsys):
    lists(paddle, customer(CUSTOMER_ID))
    paddle.creates_session(CUSTOMER_ID)

    invoke(portal(token()))
    invoke(portal(token()))

    assert EMAIL.lower() not in logs.text.lower()
    assert email_hash(EMAIL) in logs.text
    assert email_hash(EMAIL) == email_hash(EMAIL.upper())
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [("CustomerLookups" in m, "CustomerLookupCacheHits" in m) for m in metrics] == [(True, False), (True, True)]
