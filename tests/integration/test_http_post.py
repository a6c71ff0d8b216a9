"""POST /customers/{customer_id}/portal-sessions and POST /portal-sessions: the optional body, every way it can
be wrong, and what reaches Paddle."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.events import function_url, http_api, rest_api
from tests.integration.checks import assert_error, assert_session
from tests.support import CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID, PaddleStub

IAM_POST = f"/customers/{CUSTOMER_ID}/portal-sessions"
MAX_BODY = 16 * 1024


def subs(count: int) -> list[str]:
    return [f"sub_{index:026d}" for index in range(count)]


ACCEPTED = [
    pytest.param(None, False, (), id="absent"),
    pytest.param("", False, (), id="empty"),
    pytest.param("{}", False, (), id="empty-object"),
    pytest.param({"subscription_ids": []}, False, (), id="empty-list"),
    pytest.param({"subscription_ids": [SUBSCRIPTION_ID]}, False, (SUBSCRIPTION_ID,), id="one-id"),
    pytest.param({"subscription_ids": subs(25)}, False, tuple(subs(25)), id="25-ids"),
    pytest.param(
        {"subscription_ids": [SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID]},
        True,
        (SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID),
        id="base64",
    ),
    pytest.param("", True, (), id="base64-empty"),
    pytest.param("{}" + " " * (MAX_BODY - 2), False, (), id="exactly-16-KiB"),
]


@pytest.mark.parametrize("path", [IAM_POST, "/portal-sessions"], ids=["iam", "jwt"])
@pytest.mark.parametrize(("body", "encode_base64", "ids"), ACCEPTED)
def test_accepted_bodies(
    path: str, body: Any, encode_base64: bool, ids: tuple[str, ...], invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    # Given
    sent = paddle.creates_session(CUSTOMER_ID, ids)

    # When
    response = invoke(
        http_api("POST", path, auth="iam" if path == IAM_POST else "jwt", body=body, encode_base64=encode_base64)
    )

    # Then Paddle gets `{}` without ids and `{"subscription_ids": [...]}` with them, in the caller's order
    assert_session(response, 201, sent)
    assert paddle.sent_json() == ({"subscription_ids": list(ids)} if ids else {})


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(
            rest_api("POST", IAM_POST, body={"subscription_ids": [SUBSCRIPTION_ID]}, encode_base64=True), id="rest-api"
        ),
        pytest.param(
            function_url("POST", IAM_POST, body={"subscription_ids": [SUBSCRIPTION_ID]}, encode_base64=True),
            id="function-url",
        ),
    ],
)
def test_base64_bodies_of_every_event_shape(event: dict[str, Any], invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    sent = paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))

    assert_session(invoke(event), 201, sent)
    assert paddle.sent_json() == {"subscription_ids": [SUBSCRIPTION_ID]}


REFUSED = [
    pytest.param({"subscription_ids": subs(26)}, False, 400, "invalid_field", {"subscription_ids"}, id="26-ids"),
    pytest.param(
        {"subscription_ids": [SUBSCRIPTION_ID, SUBSCRIPTION_ID]},
        False,
        400,
        "invalid_field",
        {"subscription_ids"},
        id="duplicates",
    ),
    pytest.param(
        {"subscription_ids": [SUBSCRIPTION_ID], "customer_email": "x"},
        False,
        400,
        "invalid_field",
        {"customer_email"},
        id="unknown-field",
    ),
    pytest.param(
        {"subscription_ids": [SUBSCRIPTION_ID, "sub_bad"]},
        False,
        400,
        "invalid_field",
        {"subscription_ids[1]"},
        id="bad-id",
    ),
    pytest.param(
        {"subscription_ids": SUBSCRIPTION_ID}, False, 400, "invalid_field", {"subscription_ids"}, id="id-not-in-a-list"
    ),
    pytest.param({"subscription_ids": None}, False, 400, "invalid_field", {"subscription_ids"}, id="null-ids"),
    pytest.param("not json", False, 400, "invalid_json", None, id="not-json"),
    pytest.param("{'subscription_ids': []}", False, 400, "invalid_json", None, id="single-quotes"),
    pytest.param([SUBSCRIPTION_ID], False, 400, "invalid_json", None, id="json-array"),
    pytest.param("null", False, 400, "invalid_json", None, id="json-null"),
    pytest.param('"subscription_ids"', False, 400, "invalid_json", None, id="json-string"),
    pytest.param(b"\xff\xfe{}", True, 400, "invalid_json", None, id="not-utf8"),
    pytest.param("subscription_ids=sub_01h04vsc0qhwtsbsxh3422wjs4", True, 400, "invalid_json", None, id="form-encoded"),
    pytest.param("{}" + " " * (MAX_BODY - 1), False, 413, "request_too_large", None, id="16-KiB-plus-one"),
    pytest.param({"subscription_ids": ["x" * 20_000]}, False, 413, "request_too_large", None, id="large-json"),
    pytest.param("{}" + " " * MAX_BODY, True, 413, "request_too_large", None, id="large-base64"),
]


@pytest.mark.parametrize(("body", "encode_base64", "status", "code", "fields"), REFUSED)
def test_refused_bodies(
    body: Any,
    encode_base64: bool,
    status: int,
    code: str,
    fields: set[str] | None,
    invoke: Any,
    paddle: PaddleStub,
    aws: Any,
) -> None:
    response = invoke(http_api("POST", IAM_POST, body=body, encode_base64=encode_base64))

    error = assert_error(response, status, code, fields=fields is not None)
    if fields is not None:
        assert {item["field"] for item in error["errors"]} == fields
    assert paddle.requests == []
    assert aws.get_secret_value == 0


def test_invalid_base64_is_invalid_json(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    event = http_api("POST", IAM_POST, body="{}", encode_base64=True)
    event["body"] = "%%% not base64 %%%"

    assert_error(invoke(event), 400, "invalid_json")
    assert paddle.requests == []


def test_refused_values_are_not_echoed(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    hostile = "sub_<script>alert(document.cookie)</script>"

    response = invoke(http_api("POST", IAM_POST, body={"subscription_ids": [hostile]}))

    assert_error(response, 400, "invalid_field", fields=True)
    assert "<script>" not in response["body"]


def test_query_parameters_are_refused_on_post(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    response = invoke(http_api("POST", IAM_POST, query={"subscription_id": SUBSCRIPTION_ID}))

    error = assert_error(response, 400, "invalid_field", fields=True)
    assert [item["field"] for item in error["errors"]] == ["subscription_id"]
    assert paddle.requests == []


def test_all_field_errors_are_reported_together(invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    body = json.dumps({"subscription_ids": ["sub_bad", SUBSCRIPTION_ID, "also_bad"], "extra": True})

    error = assert_error(invoke(http_api("POST", IAM_POST, body=body)), 400, "invalid_field", fields=True)

    assert {item["field"] for item in error["errors"]} == {"subscription_ids[0]", "subscription_ids[2]", "extra"}


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("application/x-www-form-urlencoded", id="curl-d"),
        pytest.param("text/plain", id="text-plain"),
        pytest.param(None, id="no-content-type"),
    ],
)
@pytest.mark.parametrize("encode_base64", [True, False], ids=["base64", "plain"])
def test_json_body_is_read_whatever_the_content_type(
    content_type: str | None, encode_base64: bool, invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    # Given a JSON body sent as `curl -d` sends it (API Gateway may base64-encode such bodies, or not)
    event = http_api("POST", IAM_POST, body={"subscription_ids": [SUBSCRIPTION_ID]}, encode_base64=encode_base64)
    event["headers"].pop("content-type", None)
    if content_type:
        event["headers"]["content-type"] = content_type
    sent = paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))

    # When / Then
    assert_session(invoke(event), 201, sent)
    assert paddle.sent_json() == {"subscription_ids": [SUBSCRIPTION_ID]}
