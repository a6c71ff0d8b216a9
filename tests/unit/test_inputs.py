"""What a caller may send, as tables: the HTTP body, query and path (`http_api.inputs`), a signed link's body, and a
direct payload (`direct.DirectPayload`). Each refusal is one `InvalidRequestError` (400) or `RequestTooLargeError`
(413) naming the fields, never echoing a value."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from paddle_portal.direct import DirectPayload
from paddle_portal.errors import FieldError, InvalidRequestError, RequestTooLargeError
from paddle_portal.http_api.auth import Caller, IamPrincipal, TokenCustomer
from paddle_portal.http_api.events import MAX_BODY_BYTES, HttpRequest
from paddle_portal.http_api.inputs import link_spec, portal_request, session_request
from paddle_portal.portal import LinkSpec, PortalRequest, PortalView, VerifiedEmail
from paddle_portal.validation import validate
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID

SUB, SUB2, OTHER = SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID, OTHER_CUSTOMER_ID
BACKEND = IamPrincipal("arn:aws:iam::123456789012:role/backend")
DAY, THIRTY_DAYS = 24 * 3600, 30 * 24 * 3600


def subs(count: int) -> list[str]:
    return [f"sub_{index:026d}" for index in range(count)]


def b64(body: str | bytes) -> str:
    return base64.b64encode(body if isinstance(body, bytes) else body.encode()).decode()


def request(body: Any = None, *, b64: bool = False, query: Any = (), customer: str = CUSTOMER_ID) -> HttpRequest:
    """A request on an IAM route whose path names `customer`; `body` as the event carries it, or a value as JSON."""
    raw = body if body is None or isinstance(body, str) else json.dumps(body)
    return HttpRequest("POST", "", "/", {"customer_id": customer}, list(query), {}, raw, b64, None, "req-1")


def fields_of(error: pytest.ExceptionInfo[InvalidRequestError]) -> set[str]:
    return {item.field for item in error.value.errors}


# --- POST bodies (session routes) ---


@pytest.mark.parametrize(
    ("body", "is_b64", "ids"),
    [
        pytest.param(None, False, [], id="absent"),
        pytest.param("", False, [], id="empty"),
        pytest.param("  \n", False, [], id="whitespace"),
        pytest.param({}, False, [], id="empty-object"),
        pytest.param({"subscription_ids": []}, False, [], id="empty-list"),
        pytest.param({"subscription_ids": [SUB2, SUB]}, False, [SUB2, SUB], id="order-kept"),
        pytest.param({"subscription_ids": subs(25)}, False, subs(25), id="25-ids"),
        pytest.param(b64(json.dumps({"subscription_ids": [SUB]})), True, [SUB], id="base64"),
        pytest.param("{}" + " " * (MAX_BODY_BYTES - 2), False, [], id="exactly-16-KiB"),
        pytest.param(b64("{}" + " " * (MAX_BODY_BYTES - 2)), True, [], id="exactly-16-KiB-base64"),
    ],
)
def test_post_body_accepted(body: Any, is_b64: bool, ids: list[str]) -> None:
    assert session_request(request(body, b64=is_b64), BACKEND) == PortalRequest(CUSTOMER_ID, PortalView(tuple(ids)))


@pytest.mark.parametrize(
    ("body", "is_b64"),
    [
        pytest.param("not json", False, id="not-json"),
        pytest.param("{'subscription_ids': []}", False, id="single-quotes"),
        pytest.param("{", False, id="truncated"),
        pytest.param("[]", False, id="array"),
        pytest.param('"text"', False, id="string"),
        pytest.param("null", False, id="null"),
        pytest.param("1" * 5000, False, id="integer-longer-than-python-reads"),
        pytest.param("[" * 5000 + "]" * 5000, False, id="nested-deeper-than-the-parser"),
        pytest.param('{"subscription_ids": ["\ud800"]}', False, id="lone-surrogate"),
        pytest.param(b64("subscription_ids=" + SUB), True, id="form-encoded"),
        pytest.param(b64(b"\xff\xfe{}"), True, id="not-utf8"),
        pytest.param(b64('{"subscription_ids": []}'.encode("utf-16")), True, id="utf-16"),
        pytest.param(b64(b'{"subscription_ids": ["\xc0\xaf"]}'), True, id="overlong-utf8"),
        pytest.param("%%% not base64 %%%", True, id="not-base64"),
    ],
)
def test_post_body_that_is_not_a_json_object(body: str, is_b64: bool) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        session_request(request(body, b64=is_b64), BACKEND)

    assert raised.value.code == "invalid_json"


@pytest.mark.parametrize(
    ("body", "is_b64"),
    [
        pytest.param("{}" + " " * (MAX_BODY_BYTES - 1), False, id="one-byte-over"),
        pytest.param(b64("{}" + " " * (MAX_BODY_BYTES - 1)), True, id="base64-one-byte-over"),
        pytest.param("A" * (MAX_BODY_BYTES * 2), True, id="base64-refused-by-length-before-decoding"),
        pytest.param("é" * (MAX_BODY_BYTES // 2 + 1), False, id="bytes-not-characters"),
    ],
)
def test_post_body_over_16_KiB(body: str, is_b64: bool) -> None:
    with pytest.raises(RequestTooLargeError):
        session_request(request(body, b64=is_b64), BACKEND)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({"subscription_ids": ["sub_bad"], "extra": 1}, {"subscription_ids[0]", "extra"}, id="all-at-once"),
        pytest.param({"subscription_ids": subs(26)}, {"subscription_ids"}, id="26-ids"),
        pytest.param({"subscription_ids": [SUB, SUB]}, {"subscription_ids"}, id="duplicates"),
        pytest.param({"customer_id": OTHER}, {"customer_id"}, id="customer_id"),
        pytest.param({"subscription_ids": SUB}, {"subscription_ids"}, id="not-a-list"),
        pytest.param({"subscription_ids": None}, {"subscription_ids"}, id="null"),
        pytest.param({"subscription_ids": {"0": SUB}}, {"subscription_ids"}, id="object"),
        pytest.param({"subscription_ids": [[SUB]]}, {"subscription_ids[0]"}, id="nested-list"),
        pytest.param({"subscription_ids": [SUB, 7]}, {"subscription_ids[1]"}, id="number"),
        pytest.param({"subscription_ids": float("nan")}, {"subscription_ids"}, id="nan"),
        pytest.param({"subscription_ids": [CUSTOMER_ID]}, {"subscription_ids[0]"}, id="customer-id-as-subscription"),
        pytest.param({"subscription_ids": [SUB + "0"]}, {"subscription_ids[0]"}, id="27-characters"),
        pytest.param({"subscription_ids": [SUB.upper()]}, {"subscription_ids[0]"}, id="upper-case"),
        pytest.param({"subscription_ids": [SUB + "\n"]}, {"subscription_ids[0]"}, id="trailing-newline"),
        pytest.param({"subscription_ids": [SUB + "\x00"]}, {"subscription_ids[0]"}, id="nul"),
        pytest.param({"subscription_ids": [SUB.replace("s", "\u0455", 1)]}, {"subscription_ids[0]"}, id="cyrillic"),
        pytest.param({"subscription_ids": [SUB[:-1] + "\uff14"]}, {"subscription_ids[0]"}, id="fullwidth-digit"),
        pytest.param({"subscription_ids": [SUB[:-1] + "\u0664"]}, {"subscription_ids[0]"}, id="arabic-indic-digit"),
        pytest.param({"subscription_ids": [SUB[:8] + "\u200b" + SUB[8:]]}, {"subscription_ids[0]"}, id="zero-width"),
        pytest.param({"subscription_ids": [SUB + "\u0301"]}, {"subscription_ids[0]"}, id="combining-mark"),
    ],
)
def test_post_body_field_errors(body: dict[str, Any], fields: set[str]) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        session_request(request(body), BACKEND)

    assert raised.value.code == "invalid_field"
    assert fields_of(raised) == fields


def test_field_errors_are_bounded_and_never_echo_the_value() -> None:
    hostile = "<script>alert(1)</script>"

    with pytest.raises(InvalidRequestError) as raised:
        session_request(request({"subscription_ids": [hostile], "x" * 5000: 1}), BACKEND)

    assert raised.value.errors == (
        FieldError("subscription_ids[0]", "String should match pattern '^sub_[a-z0-9]{26}$'"),
        FieldError("x" * 100, "is not a known field"),
    )
    assert hostile not in str(raised.value)


def test_post_takes_no_query() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        session_request(request(query=[("subscription_id", SUB)]), BACKEND)

    assert fields_of(raised) == {"subscription_id"}


# --- GET query (portal routes) ---


@pytest.mark.parametrize(
    ("query", "view"),
    [
        pytest.param([], PortalView(), id="overview-by-default"),
        pytest.param([("action", "overview")], PortalView(), id="overview"),
        pytest.param([("subscription_id", SUB)], PortalView((SUB,), "overview", SUB), id="overview-with-subscription"),
        pytest.param(
            [("action", "cancel_subscription"), ("subscription_id", SUB)],
            PortalView((SUB,), "cancel_subscription", SUB),
            id="cancel",
        ),
        pytest.param(
            [("subscription_id", SUB2), ("action", "update_subscription_payment_method")],
            PortalView((SUB2,), "update_subscription_payment_method", SUB2),
            id="update-payment-method",
        ),
    ],
)
def test_get_query(query: list[tuple[str, str]], view: PortalView) -> None:
    assert portal_request(request(query=query), BACKEND) == PortalRequest(CUSTOMER_ID, view)


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        pytest.param([("action", "cancel_subscription")], {"subscription_id"}, id="cancel-without-subscription"),
        pytest.param([("action", "update_subscription_payment_method")], {"subscription_id"}, id="update-without"),
        pytest.param([("action", "delete")], {"action"}, id="unknown-action"),
        pytest.param([("action", "")], {"action"}, id="empty-action"),
        pytest.param([("action", "OVERVIEW")], {"action"}, id="action-upper-case"),
        pytest.param([("action", "overv\u0456ew")], {"action"}, id="action-cyrillic"),
        pytest.param([("action", "overview ")], {"action"}, id="action-trailing-space"),
        pytest.param([("action", "cancel%5Fsubscription")], {"action"}, id="action-double-encoded"),
        pytest.param([("subscription_id", "sub_bad")], {"subscription_id"}, id="bad-subscription"),
        pytest.param([("subscription_id", "")], {"subscription_id"}, id="empty-subscription"),
        pytest.param([("subscription_id", SUB + "\x00")], {"subscription_id"}, id="subscription-nul"),
        pytest.param([("action", "overview"), ("action", "overview")], {"action"}, id="action-twice"),
        pytest.param([("subscription_id", SUB), ("subscription_id", SUB2)], {"subscription_id"}, id="subscription-twice"),
        pytest.param([("action", "overview"), ("ACTION", "overview")], {"ACTION"}, id="name-case-variant"),
        pytest.param([("customer_id", OTHER)], {"customer_id"}, id="customer_id"),
        pytest.param([("token", "x")], {"token"}, id="unknown-parameter"),
    ],
)
def test_get_query_field_errors(query: list[tuple[str, str]], fields: set[str]) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        portal_request(request(query=query), BACKEND)

    assert raised.value.code == "invalid_field"
    assert fields_of(raised) == fields


# --- Whom a request is for ---


@pytest.mark.parametrize(
    "customer",
    [
        pytest.param("cus_01gysfvfy7vqhpzkq8rjmrq7an", id="other-prefix"),
        pytest.param(CUSTOMER_ID.upper(), id="upper-case"),
        pytest.param(CUSTOMER_ID[:-1], id="25-characters"),
        pytest.param(CUSTOMER_ID + "\n", id="trailing-newline"),
        pytest.param(CUSTOMER_ID.replace("c", "\u0441", 1), id="cyrillic"),
        pytest.param(CUSTOMER_ID[:-1] + "\uff4e", id="fullwidth"),
        pytest.param(f"{CUSTOMER_ID}/../{OTHER}", id="traversal"),
        pytest.param("..", id="dot-dot"),
        pytest.param("", id="empty"),
    ],
)
def test_an_iam_callers_path_customer_must_be_a_ctm_id(customer: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        session_request(request(customer=customer), BACKEND)

    assert fields_of(raised) == {"customer_id"}


@pytest.mark.parametrize(
    ("caller", "customer"),
    [
        pytest.param(BACKEND, OTHER, id="iam-the-paths"),
        pytest.param(TokenCustomer(CUSTOMER_ID), CUSTOMER_ID, id="token-claim-never-the-path"),
        pytest.param(VerifiedEmail("jane@example.com"), VerifiedEmail("jane@example.com"), id="token-email"),
    ],
)
def test_whom_the_request_is_for(caller: Caller, customer: object) -> None:
    assert portal_request(request(customer=OTHER), caller).customer == customer


# --- A signed link's body: a backend's link lasts up to 30 days, a signed-in user's up to 5 minutes ---


@pytest.mark.parametrize(
    ("caller", "body", "expected"),
    [
        pytest.param(BACKEND, None, ("overview", None, DAY), id="backend-default-a-day"),
        pytest.param(BACKEND, {"expires_in": THIRTY_DAYS}, ("overview", None, THIRTY_DAYS), id="backend-30-days"),
        pytest.param(BACKEND, {"expires_in": 60}, ("overview", None, 60), id="backend-a-minute"),
        pytest.param(
            BACKEND,
            {"action": "cancel_subscription", "subscription_id": SUB},
            ("cancel_subscription", SUB, DAY),
            id="backend-deep-link",
        ),
        pytest.param(TokenCustomer(OTHER), None, ("overview", None, 60), id="browser-default-a-minute"),
        pytest.param(TokenCustomer(OTHER), {"expires_in": 300}, ("overview", None, 300), id="browser-5-minutes"),
    ],
)
def test_link_body(caller: Caller, body: Any, expected: tuple[str, str | None, int]) -> None:
    spec = link_spec(request(body), caller)

    assert spec == LinkSpec(OTHER if isinstance(caller, TokenCustomer) else CUSTOMER_ID, *expected)


@pytest.mark.parametrize(
    ("caller", "body", "field"),
    [
        pytest.param(BACKEND, {"expires_in": THIRTY_DAYS + 1}, "expires_in", id="backend-over-30-days"),
        pytest.param(BACKEND, {"expires_in": 59}, "expires_in", id="backend-under-a-minute"),
        pytest.param(BACKEND, {"expires_in": "3600"}, "expires_in", id="lifetime-as-text"),
        pytest.param(TokenCustomer(OTHER), {"expires_in": 301}, "expires_in", id="browser-over-5-minutes"),
        pytest.param(TokenCustomer(OTHER), {"expires_in": 59}, "expires_in", id="browser-under-a-minute"),
        pytest.param(TokenCustomer(OTHER), {"customer_id": CUSTOMER_ID}, "customer_id", id="customer_id"),
        pytest.param(BACKEND, {"c": OTHER}, "c", id="link-field-c"),
        pytest.param(BACKEND, {"action": "cancel_subscription"}, "subscription_id", id="deep-link-without-subscription"),
        pytest.param(BACKEND, {"action": "delete_customer", "subscription_id": SUB}, "action", id="unknown-action"),
    ],
)
def test_link_body_refused(caller: Caller, body: Any, field: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        link_spec(request(body), caller)

    assert field in fields_of(raised)


# --- Direct payloads: one strict model, API events' fields refused ---

MINT = {"operation": "create_portal_link", "customer_id": CUSTOMER_ID}


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"customer_id": CUSTOMER_ID}, id="minimal"),
        pytest.param({"customer_id": CUSTOMER_ID, "subscription_ids": subs(25)}, id="25-ids"),
        pytest.param({"customer_id": CUSTOMER_ID, "correlation_id": "order-4711"}, id="correlation-id"),
        pytest.param({"customer_id": CUSTOMER_ID, "correlation_id": None}, id="null-correlation-id"),
        pytest.param({"operation": "create_portal_session", "customer_id": CUSTOMER_ID}, id="session-by-name"),
        pytest.param(MINT, id="mint"),
        pytest.param(MINT | {"expires_in": THIRTY_DAYS, "action": "overview"}, id="mint-30-days"),
    ],
)
def test_direct_payload_accepted(payload: dict[str, Any]) -> None:
    assert validate(DirectPayload, payload, tagged=True).root.customer_id == CUSTOMER_ID


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({}, "customer_id", id="no-customer"),
        pytest.param({"customer_id": "cus_123"}, "customer_id", id="bad-customer"),
        pytest.param({"customer_id": 123}, "customer_id", id="customer-not-a-string"),
        pytest.param({"customer_id": [CUSTOMER_ID, OTHER]}, "customer_id", id="customer-list"),
        pytest.param({"customer_id": CUSTOMER_ID, "customer_email": "j@example.com"}, "customer_email", id="unknown"),
        pytest.param({"customer_id": CUSTOMER_ID, "subscription_ids": subs(26)}, "subscription_ids", id="26-ids"),
        pytest.param({"customer_id": CUSTOMER_ID, "subscription_ids": [SUB, SUB]}, "subscription_ids", id="dupes"),
        pytest.param({"customer_id": CUSTOMER_ID, "subscription_ids": SUB}, "subscription_ids", id="ids-not-a-list"),
        pytest.param({"customer_id": CUSTOMER_ID, "correlation_id": ""}, "correlation_id", id="empty-correlation"),
        pytest.param({"customer_id": CUSTOMER_ID, "correlation_id": "a b"}, "correlation_id", id="correlation-space"),
        pytest.param({"customer_id": CUSTOMER_ID, "correlation_id": "x" * 129}, "correlation_id", id="correlation-129"),
        pytest.param({"customer_id": CUSTOMER_ID, "correlation_id": 4711}, "correlation_id", id="correlation-number"),
        pytest.param({"customer_id": CUSTOMER_ID, "requestContext": None}, "requestContext", id="request-context"),
        pytest.param({"body": json.dumps({"customer_id": CUSTOMER_ID}), "httpMethod": "POST"}, "body", id="http-body"),
        pytest.param({"customer_id": CUSTOMER_ID, "identity": {"userArn": "arn:x"}}, "identity", id="identity"),
        pytest.param({"customer_id": CUSTOMER_ID, "claims": {"sub": "x"}}, "claims", id="claims"),
        pytest.param({"operation": "create_portal_links", "customer_id": CUSTOMER_ID}, "operation", id="operation"),
        pytest.param(MINT | {"expires_in": THIRTY_DAYS + 1}, "expires_in", id="mint-over-30-days"),
        pytest.param(MINT | {"expires_in": 59}, "expires_in", id="mint-under-a-minute"),
        pytest.param(MINT | {"url": "https://evil.test"}, "url", id="mint-base-url"),
        pytest.param(MINT | {"subscription_ids": [SUB]}, "subscription_ids", id="mint-session-field"),
    ],
)
def test_direct_payload_refused(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        validate(DirectPayload, payload, tagged=True)

    assert field in fields_of(raised)
