"""Paddle's JSON schemas (from its OpenAPI document) applied in Python with jsonschema, Draft 2020-12.

So that our stand-ins cannot drift from Paddle: the answers our test helpers and the local fake serve must be valid
Paddle answers, Paddle's own examples must be accepted by our code, and every body our client sends must be a valid
`customer-portal-session-create`. The same for list-customers, which the verified-email lookup calls: Paddle's
example gives our lookup its customer, and an answer Paddle's schema forbids yields no customer.
"""

from __future__ import annotations

import copy
import json
import string
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from local.paddle_fake import Customer, PaddleFake
from paddle_portal.deadline import Deadline
from paddle_portal.http_api.bodies import CreateSessionBody
from paddle_portal.paddle.client import PaddleClient, new_pool
from paddle_portal.paddle.errors import PaddleResponseError
from paddle_portal.paddle.session import PortalSession
from tests.contract.documents import paddle_document, paddle_validator, problems
from tests.contract.trim_openapi import LIST_PATH, PATH
from tests.support import (
    API_KEY,
    CUSTOMER_ID,
    OTHER_SUBSCRIPTION_ID,
    SUBSCRIPTION_ID,
    PaddleStub,
    paddle_error,
    portal_session,
)

OPERATION = "/paths/" + PATH.replace("~", "~0").replace("/", "~1") + "/post"
CREATED = paddle_validator(OPERATION + "/responses/201/content/application~1json/schema")
SESSION = paddle_validator("/components/schemas/customer-portal-session")
ERROR = paddle_validator("/components/schemas/error")
CREATE = paddle_validator("/components/schemas/customer-portal-session-create")
DEFAULT_HOSTS = ("customer-portal.paddle.com", "sandbox-customer-portal.paddle.com")
TWENTY_FIVE = tuple(f"sub_b{n:025d}" for n in range(25))


def examples_of(pointer_parts: list[str]) -> list[Any]:
    """The `value` of every example under a media type of Paddle's document (`$ref`s to components followed)."""
    document = paddle_document()
    node: Any = document
    for part in pointer_parts:
        node = node[part]
    values = []
    for example in node["examples"].values():
        if "$ref" in example:
            root, section, name = example["$ref"].removeprefix("#/").split("/")
            example = document[root][section][name]
        values.append(example["value"])
    return values


PADDLE_201_EXAMPLES = examples_of(["paths", PATH, "post", "responses", "201", "content", "application/json"])


# --- the validators themselves must reject what Paddle would (a schema check that accepts anything proves nothing)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(lambda b: b["data"].pop("urls"), "'urls' is a required property", id="no-urls"),
        pytest.param(lambda b: b["data"].update(id="ses_1"), "does not match", id="bad-session-id"),
        pytest.param(lambda b: b["data"].update(created_at="yesterday"), "is not a 'date-time'", id="bad-timestamp"),
        pytest.param(lambda b: b["data"].update(extra=1), "Additional properties", id="unknown-field"),
        pytest.param(lambda b: b.pop("meta"), "'meta' is a required property", id="no-meta"),
        pytest.param(
            lambda b: b["data"]["urls"]["subscriptions"].append({"id": SUBSCRIPTION_ID}),
            "'cancel_subscription' is a required property",
            id="incomplete-subscription-links",
        ),
    ],
)
def test_the_201_schema_rejects_answers_paddle_would_not_send(mutate: Any, expected: str) -> None:
    body = portal_session(subscription_ids=[SUBSCRIPTION_ID])
    mutate(body)

    assert any(expected in problem for problem in problems(CREATED, body)), problems(CREATED, body)


# --- the answers of our stand-ins are Paddle answers


@pytest.mark.parametrize(
    "subscription_ids",
    [(), (SUBSCRIPTION_ID,), (SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID), TWENTY_FIVE],
    ids=["none", "one", "two", "25"],
)
@pytest.mark.parametrize(
    "host", ["https://customer-portal.paddle.com", "https://sandbox-customer-portal.paddle.com"], ids=["live", "sdbx"]
)
def test_support_portal_session_is_a_valid_201(subscription_ids: tuple[str, ...], host: str) -> None:
    body = portal_session(CUSTOMER_ID, subscription_ids, host=host)

    assert problems(CREATED, body) == []
    assert problems(SESSION, body["data"]) == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(paddle_error("not_found"), id="not-found"),
        pytest.param(paddle_error("invalid_token"), id="invalid-token"),
        pytest.param(paddle_error("too_many_requests"), id="rate-limited"),
        pytest.param(paddle_error("internal_error", type_="api_error"), id="api-error"),
        pytest.param(
            paddle_error("invalid_field", errors=[{"field": "subscription_ids", "message": "max 25 items"}]),
            id="field-errors",
        ),
    ],
)
def test_support_paddle_error_is_a_valid_error(body: dict[str, Any]) -> None:
    assert problems(ERROR, body) == []


@pytest.fixture(scope="module")
def fake() -> Any:
    with PaddleFake(
        API_KEY, unknown_customers={"ctm_" + "0" * 26}, unknown_subscriptions={"sub_" + "0" * 26}
    ) as paddle_fake:
        yield paddle_fake


def fake_answer(
    fake: PaddleFake,
    body: Any = None,
    *,
    customer_id: str = CUSTOMER_ID,
    authorization: str | None = f"Bearer {API_KEY}",
    raw: bytes | None = None,
) -> tuple[int, Any]:
    headers = {"content-type": "application/json", "paddle-version": "1"}
    if authorization is not None:
        headers["authorization"] = authorization
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    return fake.answer("POST", f"/customers/{customer_id}/portal-sessions", headers, data)


@pytest.mark.parametrize(
    "body",
    [None, {}, {"subscription_ids": []}, {"subscription_ids": [SUBSCRIPTION_ID]}, {"subscription_ids": TWENTY_FIVE}],
    ids=["no-body", "empty-object", "empty-list", "one", "25"],
)
def test_local_fake_serves_valid_201s(fake: PaddleFake, body: Any) -> None:
    status, answer = fake_answer(fake, json.loads(json.dumps(body)))

    assert status == 201
    assert problems(CREATED, answer) == []
    assert [sub["id"] for sub in answer["data"]["urls"]["subscriptions"]] == list(
        (body or {}).get("subscription_ids", [])
    )


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        pytest.param({"authorization": None}, 403, "authentication_missing", id="no-key"),
        pytest.param({"authorization": "Basic abc"}, 403, "authentication_malformed", id="malformed-key"),
        pytest.param({"authorization": "Bearer pdl_sdbx_apikey_wrong"}, 403, "invalid_token", id="wrong-key"),
        pytest.param({"customer_id": "ctm_" + "0" * 26}, 404, "not_found", id="unknown-customer"),
        pytest.param({"body": {"subscription_ids": ["sub_" + "0" * 26]}}, 404, "not_found", id="unknown-sub"),
        pytest.param(
            {"body": {"subscription_ids": [*TWENTY_FIVE, SUBSCRIPTION_ID]}}, 400, "invalid_field", id="26-ids"
        ),
        pytest.param({"body": {"other": 1}}, 400, "invalid_field", id="unknown-field"),
        pytest.param({"raw": b"{not json"}, 400, "invalid_json", id="not-json"),
    ],
)
def test_local_fake_serves_valid_errors(fake: PaddleFake, kwargs: dict[str, Any], status: int, code: str) -> None:
    got_status, answer = fake_answer(fake, **kwargs)

    assert (got_status, answer["error"]["code"]) == (status, code)
    assert problems(ERROR, answer) == []


# --- what our code accepts: Paddle's own examples


@pytest.mark.parametrize("example", PADDLE_201_EXAMPLES, ids=lambda e: e["data"]["id"])
def test_paddles_documented_201_examples_are_accepted_by_our_code(example: dict[str, Any]) -> None:
    assert problems(CREATED, example) == []  # the document agrees with itself

    session = PortalSession.from_paddle(example["data"], example["meta"]["request_id"], DEFAULT_HOSTS)

    assert session.session_id == example["data"]["id"]
    assert session.as_json() == example
    for sub in example["data"]["urls"]["subscriptions"]:
        assert session.link("cancel_subscription", sub["id"]) == sub["cancel_subscription"]


def test_paddles_documented_request_example_is_accepted_by_our_model() -> None:
    [example] = examples_of(["paths", PATH, "post", "requestBody", "content", "application/json"])

    assert problems(CREATE, example) == []
    assert CreateSessionBody.model_validate(example).subscription_ids == example["subscription_ids"]


# --- what our client sends


@pytest.mark.parametrize(
    "ids", [(), [], [SUBSCRIPTION_ID], list(TWENTY_FIVE)], ids=["no-ids", "empty-list", "one", "25"]
)
def test_client_request_bodies_are_valid_creates(paddle: PaddleStub, ids: Any) -> None:
    paddle.creates_session(subscription_ids=tuple(ids))
    client = PaddleClient(new_pool(), base_url=paddle.server.url_for("").rstrip("/"))

    client.create_portal_session(API_KEY, CUSTOMER_ID, ids, Deadline.within(10))

    [request] = paddle.requests
    assert problems(CREATE, paddle.sent_json()) == []
    assert request.headers["Content-Type"] == "application/json"


# Ids close to valid ones: right and wrong lengths, prefixes and characters (ASCII only: Python's `\d` in
# jsonschema would accept other scripts' digits, which ECMA-262 regexes, as JSON Schema specifies, do not).
_ID_CHARS = string.ascii_lowercase + string.digits + "A_-"
_ids = st.one_of(
    st.text(_ID_CHARS, min_size=26, max_size=26).map(lambda s: f"sub_{s}"),
    st.text(_ID_CHARS, min_size=24, max_size=28).map(lambda s: f"sub_{s}"),
    st.sampled_from([SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID, "ctm_01gysfvfy7vqhpzkq8rjmrq7an", ""]),
    st.integers(),
    st.none(),
)
_valid_ids = st.text(string.ascii_lowercase + string.digits, min_size=26, max_size=26).map(lambda s: f"sub_{s}")
_bodies = st.one_of(
    st.fixed_dictionaries({"subscription_ids": st.lists(_valid_ids, unique=True, max_size=26)}),
    st.fixed_dictionaries({"subscription_ids": st.lists(_valid_ids, max_size=4).map(lambda ids: ids + ids[:1])}),
    st.fixed_dictionaries({}, optional={"subscription_ids": st.lists(_ids, max_size=27)}),
    st.fixed_dictionaries({"subscription_ids": st.lists(st.sampled_from(TWENTY_FIVE), min_size=20, max_size=27)}),
    st.dictionaries(st.sampled_from(["subscription_ids", "customer_id", "ids"]), st.lists(_ids, max_size=3)),
    st.fixed_dictionaries({"subscription_ids": st.one_of(st.none(), st.text(max_size=5), st.integers())}),
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(_bodies)
def test_our_body_validation_is_exactly_paddles_schema(body: dict[str, Any]) -> None:
    """Whatever our model accepts, Paddle's schema accepts, and the other way round: nothing we let through can be
    refused by Paddle for its shape, and we refuse nothing Paddle would take."""
    try:
        CreateSessionBody.model_validate(body)
        ours = True
    except ValidationError:
        ours = False

    assert ours == (problems(CREATE, body) == []), (body, problems(CREATE, body))


# --- list-customers (the verified-email lookup): Paddle's documented answers, and answers Paddle's schema forbids

LIST_OPERATION = "/paths/" + LIST_PATH.replace("~", "~0").replace("/", "~1") + "/get"
LISTED = paddle_validator(LIST_OPERATION + "/responses/200/content/application~1json/schema")
PADDLE_LIST_EXAMPLES = examples_of(["paths", LIST_PATH, "get", "responses", "200", "content", "application/json"])


def lookup_answering(paddle: PaddleStub, body: Any, address: str) -> Any:
    """Our real client's lookup of `address` against a loopback Paddle that answers list-customers with `body`."""
    paddle.server.expect_request(LIST_PATH, method="GET").respond_with_json(body)
    client = PaddleClient(new_pool(), base_url=paddle.server.url_for("").rstrip("/"))
    return client.find_customers_by_email(API_KEY, address, Deadline.within(10))


@pytest.mark.parametrize(
    ("example", "customer"),
    [
        pytest.param(example, customer, id=customer["email"])
        for example in PADDLE_LIST_EXAMPLES
        for customer in example["data"]
    ],
)
def test_paddles_documented_list_examples_give_our_lookup_the_customer(
    paddle: PaddleStub, example: dict[str, Any], customer: dict[str, Any]
) -> None:
    assert problems(LISTED, example) == []  # the document agrees with itself

    # Whichever of the example's customers the token's email names (in any case), exactly that one is found
    matches = lookup_answering(paddle, example, customer["email"].upper())

    assert matches.customer_ids == (customer["id"],)
    assert matches.request_id == example["meta"]["request_id"]
    [request] = paddle.requests
    assert dict(parse_qsl(request.query_string.decode())) == {"email": customer["email"].upper(), "status": "active"}


def test_paddles_documented_list_example_finds_nobody_for_another_email(paddle: PaddleStub) -> None:
    [example] = PADDLE_LIST_EXAMPLES

    assert lookup_answering(paddle, example, "nobody@example.org").customer_ids == ()


def test_an_empty_list_is_a_valid_answer_and_finds_nobody(paddle: PaddleStub) -> None:
    [example] = PADDLE_LIST_EXAMPLES
    empty = {
        "data": [],
        "meta": {**example["meta"], "pagination": {**example["meta"]["pagination"], "estimated_total": 0}},
    }

    assert problems(LISTED, empty) == []
    assert lookup_answering(paddle, empty, "jo@example.com").customer_ids == ()


def _jo_entry(body: dict[str, Any]) -> dict[str, Any]:
    """The example's entry for jo@example.com (the first), which each mutation below spoils."""
    entry: dict[str, Any] = body["data"][0]
    assert entry["email"] == "jo@example.com"
    return entry


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(lambda b: _jo_entry(b).update(id="ctm_NOT_AN_ID"), "does not match", id="malformed-id"),
        pytest.param(lambda b: _jo_entry(b).update(id="sub_01hv6y1jedq4p1n0yqn5ba3ky4"), "does not match",
                     id="not-a-customer-id"),
        pytest.param(lambda b: _jo_entry(b).update(id=42), "is not of type 'string'", id="numeric-id"),
        pytest.param(lambda b: _jo_entry(b).update(email=["jo@example.com"]), "is not of type 'string'",
                     id="email-not-a-string"),
        pytest.param(lambda b: b["data"].__setitem__(0, _jo_entry(b)["id"]), "is not of type 'object'",
                     id="entry-not-an-object"),
        pytest.param(lambda b: b.update(data={"id": "ctm_01hv6y1jedq4p1n0yqn5ba3ky4", "email": "jo@example.com"}),
                     "is not of type 'array'", id="data-not-a-list"),
        pytest.param(lambda b: b.pop("data"), "'data' is a required property", id="no-data"),
    ],
)  # fmt: skip
def test_list_answers_paddles_schema_forbids_are_not_trusted(paddle: PaddleStub, mutate: Any, expected: str) -> None:
    # Given Paddle's own example, changed in a way its schema forbids
    [example] = PADDLE_LIST_EXAMPLES
    body = copy.deepcopy(example)
    mutate(body)
    assert any(expected in problem for problem in problems(LISTED, body)), problems(LISTED, body)

    # Then our lookup yields no customer from it: it refuses the answer, or does not count the forbidden entry
    try:
        matches = lookup_answering(paddle, body, "jo@example.com")
    except PaddleResponseError:
        return
    assert matches.customer_ids == ()


@pytest.mark.parametrize(
    "customers",
    [
        pytest.param((), id="none"),
        pytest.param((Customer(CUSTOMER_ID, "jo@example.com", "Jo"),), id="one"),
        pytest.param(
            (Customer(CUSTOMER_ID, "jo@example.com"), Customer("ctm_" + "1" * 26, "jo@example.com", status="archived")),
            id="one-archived",
        ),
    ],
)
def test_local_fake_serves_valid_list_answers(customers: tuple[Customer, ...]) -> None:
    with PaddleFake(API_KEY, customers=customers) as paddle_fake:
        status, answer = paddle_fake.answer(
            "GET", "/customers?email=jo%40example.com&status=active", {"authorization": f"Bearer {API_KEY}"}, b""
        )

    assert status == 200
    assert problems(LISTED, answer) == []
    assert [c["id"] for c in answer["data"]] == [c.id for c in customers if c.status == "active"]
