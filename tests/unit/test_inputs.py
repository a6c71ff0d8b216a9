"""`inputs`: what an authenticated HTTP request asks for, read into the use cases' records."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from paddle_portal.errors import FieldError, InvalidRequestError, RequestTooLargeError
from paddle_portal.http_api.auth import IamPrincipal, TokenCustomer
from paddle_portal.http_api.bodies import CreateSessionBody
from paddle_portal.http_api.events import MAX_BODY_BYTES, HttpRequest, IamIdentity
from paddle_portal.http_api.inputs import customer_of, portal_request, session_request
from paddle_portal.portal import PortalRequest, PortalView, VerifiedEmail
from paddle_portal.validation import validate
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID


def request(
    method: str,
    *,
    path: dict[str, str] | None = None,
    query: list[tuple[str, str]] | None = None,
    body: str | None = None,
    base64_body: bool = False,
) -> HttpRequest:
    suffix = "portal-sessions" if method == "POST" else "portal"
    return HttpRequest(
        method=method,
        route_key=f"/customers/{{customer_id}}/{suffix}",
        path=f"/customers/{CUSTOMER_ID}/{suffix}",
        path_params=path if path is not None else {"customer_id": CUSTOMER_ID},
        query=query or [],
        headers={},
        raw_body=body,
        body_is_base64=base64_body,
        identity=IamIdentity("arn:aws:iam::123456789012:role/x"),
        request_id="req-1",
    )


BACKEND = IamPrincipal("arn:aws:iam::123456789012:role/x")


def session_view(http_request: HttpRequest) -> PortalView:
    wanted = session_request(http_request, BACKEND)
    assert wanted.customer == CUSTOMER_ID  # an IAM caller's customer is the path's
    return wanted.view


def portal_view(http_request: HttpRequest) -> PortalView:
    wanted = portal_request(http_request, BACKEND)
    assert wanted.customer == CUSTOMER_ID
    return wanted.view


def field_errors(raised: pytest.ExceptionInfo[InvalidRequestError]) -> dict[str, str]:
    return {error.field: error.message for error in raised.value.errors}


@pytest.mark.parametrize(
    ("body", "base64_body", "ids"),
    [
        pytest.param(None, False, (), id="absent"),
        pytest.param("", False, (), id="empty"),
        pytest.param("  \n", False, (), id="whitespace"),
        pytest.param("{}", False, (), id="empty-object"),
        pytest.param(json.dumps({"subscription_ids": [SUBSCRIPTION_ID]}), False, (SUBSCRIPTION_ID,), id="one-id"),
        pytest.param(
            base64.b64encode(json.dumps({"subscription_ids": [SUBSCRIPTION_ID]}).encode()).decode(),
            True,
            (SUBSCRIPTION_ID,),
            id="base64",
        ),
        pytest.param("{}" + " " * (MAX_BODY_BYTES - 2), False, (), id="exactly-16-KiB"),
    ],
)
def test_post_body_accepted(body: str | None, base64_body: bool, ids: tuple[str, ...]) -> None:
    assert session_view(request("POST", body=body, base64_body=base64_body)) == PortalView(ids)


@pytest.mark.parametrize(
    ("body", "base64_body"),
    [
        pytest.param("not json", False, id="not-json"),
        pytest.param("[]", False, id="json-array"),
        pytest.param('"text"', False, id="json-string"),
        pytest.param("null", False, id="json-null"),
        pytest.param("1", False, id="json-number"),
        pytest.param("{", False, id="truncated"),
        pytest.param("[" * 5000 + "]" * 5000, False, id="deeply-nested"),
        pytest.param(base64.b64encode(b"\xff\xfe{}").decode(), True, id="not-utf8"),
        pytest.param("%%%not base64%%%", True, id="not-base64"),
    ],
)
def test_post_body_that_is_not_a_json_object(body: str, base64_body: bool) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        session_view(request("POST", body=body, base64_body=base64_body))

    assert raised.value.code == "invalid_json"


@pytest.mark.parametrize(
    ("body", "base64_body"),
    [
        pytest.param("{}" + " " * (MAX_BODY_BYTES - 1), False, id="one-byte-over"),
        pytest.param("x" * (MAX_BODY_BYTES * 4), False, id="plain-64-KiB"),
        pytest.param(base64.b64encode(b" " * (MAX_BODY_BYTES + 1)).decode(), True, id="base64-one-byte-over"),
        pytest.param("A" * (MAX_BODY_BYTES * 2), True, id="base64-text-too-long"),
        pytest.param("é" * (MAX_BODY_BYTES // 2 + 1), False, id="multibyte-counts-bytes"),
    ],
)
def test_post_body_over_16_KiB(body: str, base64_body: bool) -> None:
    with pytest.raises(RequestTooLargeError):
        session_view(request("POST", body=body, base64_body=base64_body))


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param(
            {"subscription_ids": ["sub_bad"], "extra": 1},
            {"subscription_ids[0]", "extra"},
            id="bad-id-and-unknown-field",
        ),
        pytest.param({"subscription_ids": [f"sub_{i:026d}" for i in range(26)]}, {"subscription_ids"}, id="26-ids"),
        pytest.param({"subscription_ids": [SUBSCRIPTION_ID, SUBSCRIPTION_ID]}, {"subscription_ids"}, id="duplicates"),
        pytest.param({"customer_id": OTHER_CUSTOMER_ID}, {"customer_id"}, id="customer_id-in-body"),
        pytest.param({"subscription_ids": [SUBSCRIPTION_ID, 7]}, {"subscription_ids[1]"}, id="number-in-list"),
    ],
)
def test_post_body_field_errors(body: dict[str, Any], fields: set[str]) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        session_view(request("POST", body=json.dumps(body)))

    assert raised.value.code == "invalid_field"
    assert set(field_errors(raised)) == fields


def test_post_refuses_query_parameters() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        session_view(request("POST", query=[("subscription_id", SUBSCRIPTION_ID)]))

    assert set(field_errors(raised)) == {"subscription_id"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param([], PortalView(()), id="overview-by-default"),
        pytest.param([("action", "overview")], PortalView(()), id="overview"),
        pytest.param(
            [("action", "cancel_subscription"), ("subscription_id", SUBSCRIPTION_ID)],
            PortalView((SUBSCRIPTION_ID,), "cancel_subscription", SUBSCRIPTION_ID),
            id="cancel",
        ),
        pytest.param(
            [("subscription_id", OTHER_SUBSCRIPTION_ID), ("action", "update_subscription_payment_method")],
            PortalView((OTHER_SUBSCRIPTION_ID,), "update_subscription_payment_method", OTHER_SUBSCRIPTION_ID),
            id="update-payment-method",
        ),
        pytest.param(
            [("subscription_id", SUBSCRIPTION_ID)],
            PortalView((SUBSCRIPTION_ID,), "overview", SUBSCRIPTION_ID),
            id="overview-with-subscription",
        ),
    ],
)
def test_get_query(query: list[tuple[str, str]], expected: PortalView) -> None:
    assert portal_view(request("GET", query=query)) == expected


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        pytest.param([("action", "cancel_subscription")], {"subscription_id"}, id="cancel-without-subscription"),
        pytest.param(
            [("action", "update_subscription_payment_method")], {"subscription_id"}, id="update-without-subscription"
        ),
        pytest.param([("action", "delete")], {"action"}, id="bad-action"),
        pytest.param([("subscription_id", "sub_bad")], {"subscription_id"}, id="bad-subscription-id"),
        pytest.param([("action", "overview"), ("action", "overview")], {"action"}, id="duplicate-action"),
        pytest.param(
            [("subscription_id", SUBSCRIPTION_ID), ("subscription_id", OTHER_SUBSCRIPTION_ID)],
            {"subscription_id"},
            id="duplicate-subscription",
        ),
        pytest.param([("customer_id", OTHER_CUSTOMER_ID)], {"customer_id"}, id="customer_id-in-query"),
    ],
)
def test_get_query_field_errors(query: list[tuple[str, str]], fields: set[str]) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        portal_view(request("GET", query=query))

    assert raised.value.code == "invalid_field"
    assert set(field_errors(raised)) == fields


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_iam_routes_validate_the_path_customer(method: str) -> None:
    # (Which customer a request may act for: tests/security/test_authorization_matrix.py.)
    with pytest.raises(InvalidRequestError) as raised:
        customer_of(request(method, path={"customer_id": "cus_123"}), BACKEND)

    assert set(field_errors(raised)) == {"customer_id"}


@pytest.mark.parametrize(
    ("caller", "customer"),
    [
        pytest.param(TokenCustomer(OTHER_CUSTOMER_ID), OTHER_CUSTOMER_ID, id="token-claim"),
        pytest.param(VerifiedEmail("jane@example.com"), VerifiedEmail("jane@example.com"), id="token-email"),
    ],
)
def test_a_signed_in_callers_customer_is_the_tokens_never_the_path(caller: object, customer: object) -> None:
    # Given a path naming CUSTOMER_ID (a JWT route has no such path; a catch-all route might)
    wanted = portal_request(request("GET"), caller)  # type: ignore[arg-type]

    assert wanted == PortalRequest(customer, PortalView())  # type: ignore[arg-type]


def test_field_errors_never_echo_the_value() -> None:
    hostile = "<script>alert(1)</script>"

    with pytest.raises(InvalidRequestError) as raised:
        validate(CreateSessionBody, {"subscription_ids": [hostile]})

    assert raised.value.errors[0].field == "subscription_ids[0]"
    assert hostile not in str(raised.value)


def test_unknown_field_message() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        validate(CreateSessionBody, {"extra": 1})

    assert raised.value.errors == (FieldError("extra", "is not a known field"),)
