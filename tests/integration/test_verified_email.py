"""CUSTOMER_LOOKUP=verified_email: a JWT caller's customer is the one active Paddle customer with the token's verified
email, found with Paddle's `GET /customers?email=…&status=active` (real urllib3 over a loopback server).

Only a verified email counts, only one plausible address reaches Paddle's comma-separated filter, none or several
matches are refused, found customers are cached and misses are not, and the email never appears in a log in clear.
The mode applies to JWT routes only, and no caller can switch it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from paddle_portal.portal import email_hash
from tests.events import CLAIM, claims_with, route_event, set_identity, with_query
from tests.integration.checks import assert_error, body_of
from tests.support import API_KEY, CUSTOMER_ID, OTHER_CUSTOMER_ID, PaddleStub

EMAIL = "Jane.Doe+billing@example.com"


def _customer(customer_id: str, email: str = EMAIL) -> dict[str, Any]:
    """A customer as Paddle's list-customers answer holds it (schema `customer`, the fields that matter here)."""
    return {
        "id": customer_id,
        "name": "Jane Doe",
        "email": email,
        "marketing_consent": False,
        "status": "active",
        "custom_data": None,
        "locale": "en",
        "created_at": "2024-04-11T15:57:24.813Z",
        "updated_at": "2024-04-11T15:57:24.813Z",
        "import_meta": None,
    }


def _list(*customers: dict[str, Any]) -> dict[str, Any]:
    return {
        "data": list(customers),
        "meta": {
            "request_id": "1b6a6a5c-7b9e-4b9b-8bfb-0c6e2d6b6e11",
            "pagination": {"per_page": 50, "next": "https://api.paddle.com/customers?after=x", "has_more": False},
        },
    }


def _lists(paddle: PaddleStub, *customers: dict[str, Any], status: int = 200) -> None:
    paddle.server.expect_request("/customers", method="GET").respond_with_json(
        _list(*customers) if status == 200 else _error(status), status=status
    )


def _error(status: int) -> dict[str, Any]:
    code = {403: "forbidden", 500: "internal_error"}[status]
    return {"error": {"type": "request_error", "code": code, "detail": "x"}, "meta": {"request_id": "r-1"}}


def _lookups(paddle: PaddleStub) -> list[dict[str, str]]:
    return [dict(parse_qsl(r.query_string.decode())) for r in paddle.requests if r.method == "GET"]


def _sessions(paddle: PaddleStub) -> list[str]:
    return [r.path for r in paddle.requests if r.method == "POST"]


def _claims(email: Any = EMAIL, verified: Any = "true", **extra: Any) -> dict[str, Any]:
    claims = claims_with(...)
    claims.pop("email", None)
    claims.pop("email_verified", None)
    if email is not ...:
        claims["email"] = email
    if verified is not ...:
        claims["email_verified"] = verified
    return {**claims, **extra}


def _jwt_get(claims: dict[str, Any], fmt: str = "http_api", accept: str = "text/html") -> dict[str, Any]:
    event = with_query(set_identity(route_event(fmt, "jwt_get"), "jwt", claims), "")  # the overview
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "accept"}
    event["headers"] = {**headers, "accept": accept}
    event["multiValueHeaders"] = None
    return event


@pytest.fixture
def lookup_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMER_LOOKUP", "verified_email")


@pytest.mark.usefixtures("lookup_mode")
@pytest.mark.parametrize(
    ("fmt", "verified"),
    [("http_api", "true"), ("rest_api", True), ("rest_api", "true")],
    ids=["http-api-string", "rest-api-json-true", "rest-api-string"],
)
def test_verified_email_opens_that_customers_portal(
    fmt: str, verified: Any, invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    # Given Paddle knows exactly one active customer with the token's email
    _lists(paddle, _customer(CUSTOMER_ID))
    sent = paddle.creates_session(CUSTOMER_ID)

    # When the signed-in user opens the portal (the token has no customer claim)
    response = invoke(_jwt_get(_claims(verified=verified), fmt))

    # Then the lookup asked for exactly that one address among active customers, and the portal is that customer's
    assert response["statusCode"] == 302
    assert response["headers"]["Location"] == sent["data"]["urls"]["general"]["overview"]
    assert _lookups(paddle) == [{"email": EMAIL, "status": "active"}]
    lookup = next(r for r in paddle.requests if r.method == "GET")
    assert lookup.headers["Authorization"] == f"Bearer {API_KEY}"
    assert lookup.headers["Paddle-Version"] == "1"
    assert _sessions(paddle) == [paddle.path(CUSTOMER_ID)]


@pytest.mark.usefixtures("lookup_mode")
def test_post_route_and_json_answer_use_the_looked_up_customer(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    _lists(paddle, _customer(CUSTOMER_ID))
    sent = paddle.creates_session(CUSTOMER_ID)

    created = invoke(set_identity(route_event("http_api", "jwt_post"), "jwt", _claims()))
    as_json = invoke(_jwt_get(_claims(), accept="application/json"))

    assert created["statusCode"] == 201
    assert body_of(created)["data"] == sent["data"]
    assert as_json["statusCode"] == 200


@pytest.mark.usefixtures("lookup_mode")
def test_found_customers_are_cached_and_misses_are_not(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    # Given no customer has the email yet
    _lists(paddle)
    first = invoke(_jwt_get(_claims()))
    second = invoke(_jwt_get(_claims()))
    assert_error(first, 404, "not_found")
    assert_error(second, 404, "not_found")
    assert len(_lookups(paddle)) == 2  # a miss is asked again: the customer may check out in between

    # When the customer now exists (the checkout completed)
    paddle.server.clear()
    _lists(paddle, _customer(CUSTOMER_ID))
    paddle.creates_session(CUSTOMER_ID)
    answers = [invoke(_jwt_get(_claims(email=EMAIL.upper()))) for _ in range(3)]

    # Then it is found once and reused (the cache ignores the address's case), one session per click
    assert [a["statusCode"] for a in answers] == [302, 302, 302]
    assert len(_lookups(paddle)) == 1
    assert len(_sessions(paddle)) == 3


@pytest.mark.usefixtures("lookup_mode")
def test_no_cache_when_its_age_is_zero(invoke: Any, paddle: PaddleStub, aws: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("CUSTOMER_LOOKUP_MAX_AGE_SECONDS", "0")
    _lists(paddle, _customer(CUSTOMER_ID))
    paddle.creates_session(CUSTOMER_ID)

    for _ in range(2):
        assert invoke(_jwt_get(_claims()))["statusCode"] == 302

    assert len(_lookups(paddle)) == 2


@pytest.mark.usefixtures("lookup_mode")
def test_no_match_is_404_with_a_readable_detail(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    _lists(paddle)

    response = invoke(_jwt_get(_claims()))

    assert_error(response, 404, "not_found")
    assert "No active Paddle customer has this account's email address" in body_of(response)["error"]["detail"]
    assert EMAIL not in response["body"]
    assert _sessions(paddle) == []


@pytest.mark.usefixtures("lookup_mode")
def test_several_matches_are_refused_never_guessed(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    _lists(paddle, _customer(CUSTOMER_ID), _customer(OTHER_CUSTOMER_ID, EMAIL.lower()))

    response = invoke(_jwt_get(_claims()))

    assert_error(response, 409, "ambiguous_customer")
    assert _sessions(paddle) == []


@pytest.mark.usefixtures("lookup_mode")
@pytest.mark.parametrize(
    "entries",
    [
        [_customer(CUSTOMER_ID, "someone.else@example.com")],
        [_customer("ctm_NOT_AN_ID")],
        [{"id": CUSTOMER_ID}],
        ["ctm_01gysfvfy7vqhpzkq8rjmrq7an"],
    ],
    ids=["other-email", "malformed-id", "no-email", "not-an-object"],
)
def test_entries_that_are_not_a_match_are_not_counted(
    entries: list[Any], invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    paddle.server.expect_request("/customers", method="GET").respond_with_json(_list(*entries))

    assert_error(invoke(_jwt_get(_claims())), 404, "not_found")
    assert _sessions(paddle) == []


@pytest.mark.usefixtures("lookup_mode")
@pytest.mark.parametrize(
    "verified",
    ["false", False, "True", "1", 1, "yes", "", None, ...],
    ids=["false", "json-false", "capitalised", "one", "int-one", "yes", "empty", "null", "absent"],
)
def test_an_email_that_is_not_verified_is_403_before_paddle(
    verified: Any, invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    response = invoke(_jwt_get(_claims(verified=verified)))

    assert_error(response, 403, "forbidden")
    assert "email_verified" in body_of(response)["error"]["detail"]
    assert paddle.requests == []
    assert aws.get_secret_value == 0


WIDENING = {
    "two-addresses": f"{EMAIL},victim@example.com",
    "comma-only-local": "a,b@example.com",
    "space": "jane doe@example.com",
    "trailing-newline": f"{EMAIL}\n",
    "tab": f"{EMAIL}\tx",
    "nul": f"{EMAIL}\x00",
    "no-at": "jane.example.com",
    "two-ats": "jane@doe@example.com",
    "no-domain-dot": "jane@localhost",
    "empty": "",
    "over-100": "j" * 60 + "@" + "e" * 36 + ".com",
    "list": ["jane@example.com", "victim@example.com"],
    "number": 7,
    "absent": ...,
}


@pytest.mark.usefixtures("lookup_mode")
@pytest.mark.parametrize("email", list(WIDENING.values()), ids=list(WIDENING))
def test_an_email_that_is_not_one_plausible_address_is_403_before_paddle(
    email: Any, invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    response = invoke(_jwt_get(_claims(email=email)))

    assert_error(response, 403, "forbidden")
    assert paddle.requests == []


@pytest.mark.usefixtures("lookup_mode")
def test_the_claim_and_the_request_cannot_name_another_customer(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    # Given a token whose customer claim names someone else, and a request naming a customer too
    _lists(paddle, _customer(CUSTOMER_ID))
    paddle.creates_session(CUSTOMER_ID)
    event = _jwt_get(_claims(**{CLAIM: OTHER_CUSTOMER_ID}))
    event["pathParameters"] = {"customer_id": OTHER_CUSTOMER_ID}
    event["headers"] = {**event["headers"], "x-customer-email": "victim@example.com"}

    response = invoke(event)

    # Then the verified email alone decides
    assert response["statusCode"] == 302
    assert _lookups(paddle) == [{"email": EMAIL, "status": "active"}]
    assert _sessions(paddle) == [paddle.path(CUSTOMER_ID)]


@pytest.mark.usefixtures("lookup_mode")
def test_an_invalid_request_is_refused_before_the_lookup(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    event = with_query(_jwt_get(_claims()), "action=cancel_subscription")  # a deep link needs its subscription

    assert_error(invoke(event), 400, "invalid_field")
    assert paddle.requests == []


def test_claim_mode_ignores_the_email_and_no_caller_can_switch_modes(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    # Given the default mode (claim) and a token with a verified email but no customer claim
    event = with_query(_jwt_get(_claims()), "customer_lookup=verified_email")
    plain = _jwt_get(_claims())
    plain["headers"] = {**plain["headers"], "x-customer-lookup": "verified_email"}

    # Then neither a query parameter nor a header makes the email count
    assert_error(invoke(event), 403, "forbidden")
    refused = invoke(plain)
    assert_error(refused, 403, "forbidden")
    assert CLAIM in body_of(refused)["error"]["detail"]  # the refusal names the claim the route wanted
    assert paddle.requests == []


@pytest.mark.usefixtures("lookup_mode")
def test_iam_routes_are_not_affected(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    paddle.creates_session(CUSTOMER_ID)

    response = invoke(set_identity(route_event("http_api", "iam_get"), "iam"))

    assert response["statusCode"] == 302
    assert _lookups(paddle) == []


@pytest.mark.usefixtures("lookup_mode")
def test_a_key_without_customer_read_is_a_configuration_error_named_in_the_logs(
    invoke: Any, paddle: PaddleStub, aws: Any, logs: Any
) -> None:
    _lists(paddle, status=403)

    response = invoke(_jwt_get(_claims()))

    assert_error(response, 500, "configuration_error")
    assert "customer.read" in logs.text
    assert _sessions(paddle) == []


@pytest.mark.usefixtures("lookup_mode")
def test_the_lookup_is_retried_like_the_session_call(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    # Given Paddle fails the lookup once with a 500, then answers
    paddle.server.expect_oneshot_request("/customers", method="GET").respond_with_json(_error(500), status=500)
    _lists(paddle, _customer(CUSTOMER_ID))
    paddle.creates_session(CUSTOMER_ID)

    assert invoke(_jwt_get(_claims()))["statusCode"] == 302
    assert len(_lookups(paddle)) == 2


@pytest.mark.usefixtures("lookup_mode")
def test_logs_name_the_email_only_by_its_hash_and_metrics_count_lookups(
    invoke: Any, paddle: PaddleStub, aws: Any, logs: Any, capsys: Any
) -> None:
    _lists(paddle, _customer(CUSTOMER_ID))
    paddle.creates_session(CUSTOMER_ID)

    invoke(_jwt_get(_claims()))
    invoke(_jwt_get(_claims()))

    assert EMAIL.lower() not in logs.text.lower()
    assert email_hash(EMAIL) in logs.text
    assert email_hash(EMAIL) == email_hash(EMAIL.upper())
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [("CustomerLookups" in m, "CustomerLookupCacheHits" in m) for m in metrics] == [(True, False), (True, True)]
