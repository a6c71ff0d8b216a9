"""What a caller may send, as tables: the HTTP body, query and path (`http_api.inputs`), a signed link's body, and a
direct payload (`direct.DirectPayload`). A refusal is one `InvalidRequestError` (400) naming the fields, never
echoing a value, or a `RequestTooLargeError` (413)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from paddle_portal.direct import DirectPayload
from paddle_portal.errors import FieldError, InvalidRequestError, RequestTooLargeError
from paddle_portal.http_api.auth import IamPrincipal, TokenCustomer
from paddle_portal.http_api.events import HttpRequest
from paddle_portal.http_api.inputs import link_spec, portal_request, session_request
from paddle_portal.portal import LinkSpec, PortalRequest, PortalView, VerifiedEmail
from paddle_portal.validation import validate
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID

SUB, SUB2, OTHER = SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID, OTHER_CUSTOMER_ID
BACKEND, USER = IamPrincipal("arn:aws:iam::123456789012:role/backend"), TokenCustomer(OTHER)
DAY, THIRTY_DAYS = 24 * 3600, 30 * 24 * 3600
MAX_BODY_BYTES = 16 * 1024  # the contract's limit
PADDED = "{}" + " " * (MAX_BODY_BYTES - 2)  # exactly 16 KiB
S, S0 = "subscription_ids", "subscription_ids[0]"
CANCEL, UPDATE = "cancel_subscription", "update_subscription_payment_method"
NOT_JSON = ("invalid_json", set())


def bad(*fields: str) -> tuple[str, set[str]]:
    return "invalid_field", set(fields)


def subs(count: int) -> list[str]:
    return [f"sub_{index:026d}" for index in range(count)]


def b64(body: str | bytes) -> str:
    return base64.b64encode(body if isinstance(body, bytes) else body.encode()).decode()


def request(body: Any = None, is_b64: bool = False, query: Any = (), customer: str = CUSTOMER_ID) -> HttpRequest:
    """A request on an IAM route whose path names `customer`; `body` as the event carries it, or a value as JSON."""
    raw = body if body is None or isinstance(body, str) else json.dumps(body)
    return HttpRequest("POST", "", "/", {"customer_id": customer}, list(query), {}, raw, is_b64, None, "req-1")


def outcome(read: Callable[[], Any]) -> Any:
    """What `read()` returns, or the refusal it raises: 413, or the code and the fields it names."""
    try:
        return read()
    except RequestTooLargeError:
        return 413
    except InvalidRequestError as error:
        return error.code, {item.field for item in error.errors}


# --- POST bodies (session routes): `{"subscription_ids": [...]}` or nothing ---

BODIES: dict[str, tuple[Any, bool, Any]] = {
    "absent": (None, False, []),
    "empty": ("", False, []),
    "whitespace": ("  \n", False, []),
    "empty-object": ({}, False, []),
    "empty-list": ({S: []}, False, []),
    "order-kept": ({S: [SUB2, SUB]}, False, [SUB2, SUB]),
    "25-ids": ({S: subs(25)}, False, subs(25)),
    "base64": (b64(json.dumps({S: [SUB]})), True, [SUB]),
    "exactly-16-KiB": (PADDED, False, []),
    "exactly-16-KiB-base64": (b64(PADDED), True, []),
    "one-byte-over": (PADDED + " ", False, 413),
    "base64-one-byte-over": (b64(PADDED + " "), True, 413),
    "base64-refused-by-length-before-decoding": ("A" * (MAX_BODY_BYTES * 2), True, 413),
    "bytes-not-characters": ("é" * (MAX_BODY_BYTES // 2 + 1), False, 413),
    "not-json": ("not json", False, NOT_JSON),
    "array": ("[]", False, NOT_JSON),
    "null": ("null", False, NOT_JSON),
    "integer-longer-than-python-reads": ("1" * 5000, False, NOT_JSON),
    "nested-deeper-than-the-parser": ("[" * 5000 + "]" * 5000, False, NOT_JSON),
    "lone-surrogate": ('{"subscription_ids": ["\ud800"]}', False, NOT_JSON),
    "form-encoded": (b64("subscription_ids=" + SUB), True, NOT_JSON),
    "not-utf8": (b64(b"\xff\xfe{}"), True, NOT_JSON),
    "utf-16": (b64('{"subscription_ids": []}'.encode("utf-16")), True, NOT_JSON),
    "overlong-utf8": (b64(b'{"subscription_ids": ["\xc0\xaf"]}'), True, NOT_JSON),
    "not-base64": ("%%% not base64 %%%", True, NOT_JSON),
    "fields-all-at-once": ({S: ["sub_bad"], "extra": 1}, False, bad(S0, "extra")),
    "26-ids": ({S: subs(26)}, False, bad(S)),
    "duplicates": ({S: [SUB, SUB]}, False, bad(S)),
    "customer_id": ({"customer_id": OTHER}, False, bad("customer_id")),
    "ids-not-a-list": ({S: SUB}, False, bad(S)),
    "ids-null": ({S: None}, False, bad(S)),
    "nested-list": ({S: [[SUB]]}, False, bad(S0)),
    "number": ({S: [SUB, 7]}, False, bad("subscription_ids[1]")),
    "customer-id-as-subscription": ({S: [CUSTOMER_ID]}, False, bad(S0)),
    "27-characters": ({S: [SUB + "0"]}, False, bad(S0)),
    "upper-case": ({S: [SUB.upper()]}, False, bad(S0)),
    "trailing-newline": ({S: [SUB + "\n"]}, False, bad(S0)),
    "cyrillic": ({S: [SUB.replace("s", "\u0455", 1)]}, False, bad(S0)),
    "arabic-indic-digit": ({S: [SUB[:-1] + "\u0664"]}, False, bad(S0)),
    "zero-width-space": ({S: [SUB[:8] + "\u200b" + SUB[8:]]}, False, bad(S0)),
}


@pytest.mark.parametrize(("body", "is_b64", "expected"), list(BODIES.values()), ids=list(BODIES))
def test_post_body(body, is_b64, expected):
    read = outcome(lambda: session_request(request(body, is_b64), BACKEND))

    assert read == (PortalRequest(CUSTOMER_ID, PortalView(tuple(expected))) if isinstance(expected, list) else expected)


def test_field_errors_are_bounded_and_never_echo_the_value():
    hostile = "<script>alert(1)</script>"

    with pytest.raises(InvalidRequestError) as raised:
        session_request(request({S: [hostile], "x" * 5000: 1}), BACKEND)

    assert raised.value.errors == (
        FieldError(S0, "String should match pattern '^sub_[a-z0-9]{26}$'"),
        FieldError("x" * 100, "is not a known field"),
    )
    assert hostile not in str(raised.value)


def test_post_takes_no_query():
    assert outcome(lambda: session_request(request(query=[("subscription_id", SUB)]), BACKEND)) == bad(
        "subscription_id"
    )


# --- GET query (portal routes): `action`, `subscription_id` (repeats and look-alikes: tests/security) ---

QUERIES: dict[str, tuple[list[tuple[str, str]], Any]] = {
    "overview-by-default": ([], PortalView()),
    "overview": ([("action", "overview")], PortalView()),
    "overview-with-subscription": ([("subscription_id", SUB)], PortalView((SUB,), "overview", SUB)),
    "cancel": ([("action", CANCEL), ("subscription_id", SUB)], PortalView((SUB,), CANCEL, SUB)),
    "update-payment-method": ([("subscription_id", SUB2), ("action", UPDATE)], PortalView((SUB2,), UPDATE, SUB2)),
    "cancel-without-subscription": ([("action", CANCEL)], bad("subscription_id")),
    "update-without-subscription": ([("action", UPDATE)], bad("subscription_id")),
    "unknown-action": ([("action", "delete")], bad("action")),
    "empty-action": ([("action", "")], bad("action")),
    "action-upper-case": ([("action", "OVERVIEW")], bad("action")),
    "action-trailing-space": ([("action", "overview ")], bad("action")),
    "action-nul": ([("action", CANCEL + "\x00"), ("subscription_id", SUB)], bad("action")),
    "bad-subscription": ([("subscription_id", "sub_bad")], bad("subscription_id")),
    "customer_id": ([("customer_id", OTHER)], bad("customer_id")),
    "unknown-parameter": ([("token", "x")], bad("token")),
}


@pytest.mark.parametrize(("query", "expected"), list(QUERIES.values()), ids=list(QUERIES))
def test_get_query(query, expected):
    read = outcome(lambda: portal_request(request(query=query), BACKEND))

    assert read == (PortalRequest(CUSTOMER_ID, expected) if isinstance(expected, PortalView) else expected)


# --- Whom a request is for: an IAM caller's path customer (look-alikes: tests/security), a signed-in user's own ---

NOT_A_CUSTOMER_ID = {
    "other-prefix": "cus_01gysfvfy7vqhpzkq8rjmrq7an",
    "25-characters": CUSTOMER_ID[:-1],
    "trailing-newline": CUSTOMER_ID + "\n",
    "fullwidth": CUSTOMER_ID[:-1] + "\uff4e",
    "dot-dot": "..",
    "empty": "",
}


@pytest.mark.parametrize("customer", list(NOT_A_CUSTOMER_ID.values()), ids=list(NOT_A_CUSTOMER_ID))
def test_an_iam_callers_path_customer_must_be_a_ctm_id(customer):
    assert outcome(lambda: session_request(request(customer=customer), BACKEND)) == bad("customer_id")


@pytest.mark.parametrize(
    ("caller", "customer"),
    [(BACKEND, OTHER), (TokenCustomer(CUSTOMER_ID), CUSTOMER_ID), (VerifiedEmail("j@x.com"), VerifiedEmail("j@x.com"))],
    ids=["iam-the-paths", "token-claim-never-the-path", "token-email-never-the-path"],
)
def test_whom_the_request_is_for(caller, customer):
    assert portal_request(request(customer=OTHER), caller).customer == customer


# --- A signed link's body: a backend's link lasts a minute to 30 days (a day by default), a signed-in user's a
# minute to 5 minutes (a minute by default); a customer in the body and lifetimes past the caps: tests/security ---

LINK_BODIES: dict[str, tuple[Any, Any, Any]] = {
    "backend-default": (BACKEND, None, LinkSpec(CUSTOMER_ID, "overview", None, DAY)),
    "backend-30-days": (BACKEND, {"expires_in": THIRTY_DAYS}, LinkSpec(CUSTOMER_ID, "overview", None, THIRTY_DAYS)),
    "backend-a-minute": (BACKEND, {"expires_in": 60}, LinkSpec(CUSTOMER_ID, "overview", None, 60)),
    "deep-link": (BACKEND, {"action": CANCEL, "subscription_id": SUB}, LinkSpec(CUSTOMER_ID, CANCEL, SUB, DAY)),
    "browser-default": (USER, None, LinkSpec(OTHER, "overview", None, 60)),
    "browser-5-minutes": (USER, {"expires_in": 300}, LinkSpec(OTHER, "overview", None, 300)),
    "lifetime-as-text": (BACKEND, {"expires_in": "3600"}, bad("expires_in")),
    "deep-link-without-subscription": (BACKEND, {"action": CANCEL}, bad("subscription_id")),
    "unknown-action": (BACKEND, {"action": "delete_customer", "subscription_id": SUB}, bad("action")),
}


@pytest.mark.parametrize(("caller", "body", "expected"), list(LINK_BODIES.values()), ids=list(LINK_BODIES))
def test_link_body(caller, body, expected):
    assert outcome(lambda: link_spec(request(body), caller)) == expected


# --- Direct payloads: one strict model (an API event's fields, refused: tests/security) ---

C = {"customer_id": CUSTOMER_ID}
MINT = {"operation": "create_portal_link", **C}
DIRECT: dict[str, tuple[Any, Any]] = {
    "minimal": (C, None),
    "25-ids": (C | {S: subs(25)}, None),
    "correlation-id": (C | {"correlation_id": "order-4711"}, None),
    "null-correlation-id": (C | {"correlation_id": None}, None),
    "session-by-name": (C | {"operation": "create_portal_session"}, None),
    "mint": (MINT, None),
    "mint-30-days": (MINT | {"expires_in": THIRTY_DAYS, "action": "overview"}, None),
    "mint-under-a-minute": (MINT | {"expires_in": 59}, bad("expires_in")),
    "no-customer": ({}, bad("customer_id")),
    "bad-customer": ({"customer_id": "cus_123"}, bad("customer_id")),
    "customer-not-a-string": ({"customer_id": 123}, bad("customer_id")),
    "unknown-field": (C | {"customer_email": "j@example.com"}, bad("customer_email")),
    "26-ids": (C | {S: subs(26)}, bad(S)),
    "duplicates": (C | {S: [SUB, SUB]}, bad(S)),
    "ids-not-a-list": (C | {S: SUB}, bad(S)),
    "empty-correlation-id": (C | {"correlation_id": ""}, bad("correlation_id")),
    "correlation-id-with-space": (C | {"correlation_id": "a b"}, bad("correlation_id")),
    "correlation-id-129-characters": (C | {"correlation_id": "x" * 129}, bad("correlation_id")),
    "correlation-id-number": (C | {"correlation_id": 4711}, bad("correlation_id")),
    "unknown-operation": (C | {"operation": "create_portal_links"}, bad("operation")),
}


@pytest.mark.parametrize(("payload", "expected"), list(DIRECT.values()), ids=list(DIRECT))
def test_direct_payload(payload, expected):
    read = outcome(lambda: validate(DirectPayload, payload, tagged=True).root.customer_id)

    assert read == (expected or CUSTOMER_ID)
