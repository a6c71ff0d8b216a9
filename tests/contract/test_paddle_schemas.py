"""Paddle's JSON schemas (from its OpenAPI document, jsonschema Draft 2020-12): our stand-ins serve valid Paddle answers
and the fake refuses exactly what Paddle's schema refuses; our code takes Paddle's examples, validates bodies exactly as
the schema does, and counts no customer from a list-customers answer the schema forbids."""

from __future__ import annotations

import contextlib
import copy
import json
import string
from typing import Any

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
from tests.contract.documents import CREATE, CREATE_BODY, CREATED, ERROR, LIST_EXAMPLE, LISTED, examples, problems
from tests.support import API_KEY, CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID, PaddleStub, portal_session

HOSTS = ("customer-portal.paddle.com", "sandbox-customer-portal.paddle.com")
TWENTY_FIVE = [f"sub_b{n:025d}" for n in range(25)]
UNKNOWN_CUSTOMER, UNKNOWN_SUBSCRIPTION = "ctm_" + "0" * 26, "sub_" + "0" * 26


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(lambda b: b["data"].pop("urls"), "'urls' is a required property", id="no-urls"),
        pytest.param(lambda b: b["data"].update(id="ses_1"), "does not match", id="bad-session-id"),
        pytest.param(lambda b: b["data"].update(created_at="yesterday"), "is not a 'date-time'", id="bad-timestamp"),
        pytest.param(lambda b: b["data"].update(extra=1), "Additional properties", id="unknown-field"),
        pytest.param(lambda b: b["data"]["urls"]["subscriptions"].append({"id": SUBSCRIPTION_ID}),
                     "'cancel_subscription' is a required property", id="incomplete-subscription-links"),
    ],
)  # fmt: skip
def test_the_201_schema_rejects_answers_paddle_would_not_send(mutate: Any, expected: str) -> None:
    """A schema check that accepts anything proves nothing."""
    body = portal_session(subscription_ids=[SUBSCRIPTION_ID])
    assert problems(CREATED, body) == []
    mutate(body)

    assert any(expected in problem for problem in problems(CREATED, body)), problems(CREATED, body)


SESSIONS, KEY = f"/customers/{CUSTOMER_ID}/portal-sessions", f"Bearer {API_KEY}"
LIST = "/customers?email=jo%40example.com"
CUSTOMERS = [Customer(CUSTOMER_ID, "jo@example.com"), Customer("ctm_" + "1" * 26, "jo@example.com", status="archived")]
FAKE_ANSWERS = [
    # (id, method, path, body, Authorization, status, error code)
    ("no-body", "POST", SESSIONS, None, KEY, 201, None),
    ("25-ids", "POST", SESSIONS, {"subscription_ids": TWENTY_FIVE}, KEY, 201, None),
    ("26-ids", "POST", SESSIONS, {"subscription_ids": [*TWENTY_FIVE, SUBSCRIPTION_ID]}, KEY, 400, "invalid_field"),
    ("duplicates", "POST", SESSIONS, {"subscription_ids": [SUBSCRIPTION_ID] * 2}, KEY, 400, "invalid_field"),
    ("unknown-field", "POST", SESSIONS, {"subscription_ids": [], "x": 1}, KEY, 400, "invalid_field"),
    ("not-json", "POST", SESSIONS, b"{not json", KEY, 400, "invalid_json"),
    ("no-key", "POST", SESSIONS, None, None, 403, "authentication_missing"),
    ("malformed-key", "POST", SESSIONS, None, "Basic abc", 403, "authentication_malformed"),
    ("wrong-key", "POST", SESSIONS, None, "Bearer pdl_sdbx_wrong", 403, "invalid_token"),
    ("unknown-customer", "POST", SESSIONS.replace(CUSTOMER_ID, UNKNOWN_CUSTOMER), None, KEY, 404, "not_found"),
    ("unknown-subscription", "POST", SESSIONS, {"subscription_ids": [UNKNOWN_SUBSCRIPTION]}, KEY, 404, "not_found"),
    ("list", "GET", f"{LIST}&status=active", None, KEY, 200, None),
    ("list-nobody", "GET", LIST.replace("jo", "nobody"), None, KEY, 200, None),
    ("list-bad-status", "GET", f"{LIST}&status=deleted", None, KEY, 400, "invalid_field"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "key", "status", "code"), [pytest.param(*a[1:], id=a[0]) for a in FAKE_ANSWERS]
)
def test_the_local_fake_serves_paddle_answers(
    method: str, path: str, body: Any, key: str | None, status: int, code: str | None
) -> None:
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    headers = {"content-type": "application/json"} | ({"authorization": key} if key else {})
    with PaddleFake(API_KEY, unknown_customers={UNKNOWN_CUSTOMER}, unknown_subscriptions={UNKNOWN_SUBSCRIPTION},
                    customers=CUSTOMERS) as fake:  # fmt: skip
        got, answer = fake.answer(method, path, headers, raw)

    assert (got, answer.get("error", {}).get("code")) == (status, code)
    assert problems(ERROR if code else CREATED if method == "POST" else LISTED, answer) == []
    if method == "POST" and status in (201, 400) and code != "invalid_json":  # it refuses exactly what Paddle would
        assert (status == 201) is (problems(CREATE_BODY, body or {}) == [])


def test_paddles_documented_examples_are_accepted_by_our_code() -> None:
    for example in examples(f"{CREATE}/responses/201/content/application~1json"):
        assert problems(CREATED, example) == []  # the document agrees with itself
        session = PortalSession.from_paddle(example["data"], example["meta"]["request_id"], HOSTS)
        assert (session.session_id, session.as_json()) == (example["data"]["id"], example)
        for sub in example["data"]["urls"]["subscriptions"]:
            assert session.link("cancel_subscription", sub["id"]) == sub["cancel_subscription"]
    [request] = examples(f"{CREATE}/requestBody/content/application~1json")
    assert problems(CREATE_BODY, request) == []
    assert CreateSessionBody.model_validate(request).subscription_ids == request["subscription_ids"]


# Ids close to valid ones: right and wrong lengths, prefixes and characters (ASCII only: Python's `\d` in jsonschema
# would accept other scripts' digits, which ECMA-262 regexes, as JSON Schema specifies, do not).
_chars = string.ascii_lowercase + string.digits + "A_-"
_ids = st.one_of(
    st.text(_chars, min_size=24, max_size=28).map(lambda s: f"sub_{s}"),
    st.sampled_from([SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID, CUSTOMER_ID, ""]),
    st.integers(),
    st.none(),
)
_valid = st.text(string.ascii_lowercase + string.digits, min_size=26, max_size=26).map(lambda s: f"sub_{s}")
_bodies = st.one_of(
    st.fixed_dictionaries({"subscription_ids": st.lists(_valid, unique=True, max_size=26)}),
    st.fixed_dictionaries({"subscription_ids": st.lists(_valid, max_size=4).map(lambda ids: ids + ids[:1])}),
    st.fixed_dictionaries({}, optional={"subscription_ids": st.lists(_ids, max_size=27)}),
    st.dictionaries(st.sampled_from(["subscription_ids", "customer_id", "ids"]), st.lists(_ids, max_size=3)),
    st.fixed_dictionaries({"subscription_ids": st.one_of(st.none(), st.text(max_size=5), st.integers())}),
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(_bodies)
def test_our_body_validation_is_exactly_paddles_schema(body: dict[str, Any]) -> None:
    """Nothing we let through can be refused by Paddle for its shape, and we refuse nothing Paddle would take."""
    try:
        ours = bool(CreateSessionBody.model_validate(body))
    except ValidationError:
        ours = False

    assert ours == (problems(CREATE_BODY, body) == []), (body, problems(CREATE_BODY, body))


# --- list-customers (the verified-email lookup): Paddle's documented answers, and answers its schema forbids


def lookup(paddle: PaddleStub, body: Any, address: str) -> Any:
    """Our real client's lookup of `address` against a loopback Paddle answering list-customers with `body`."""
    paddle.server.expect_request("/customers", method="GET").respond_with_json(body)
    client = PaddleClient(new_pool(), base_url=paddle.server.url_for("").rstrip("/"))
    return client.find_customers_by_email(API_KEY, address, Deadline.within(10))


EMPTY = {**LIST_EXAMPLE, "data": [], "meta": {**LIST_EXAMPLE["meta"], "pagination": {
    **LIST_EXAMPLE["meta"]["pagination"], "estimated_total": 0}}}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "address", "found"),
    [pytest.param(LIST_EXAMPLE, c["email"].upper(), (c["id"],), id=c["email"]) for c in LIST_EXAMPLE["data"]]
    + [pytest.param(LIST_EXAMPLE, "nobody@example.org", (), id="another-email"),
       pytest.param(EMPTY, "jo@example.com", (), id="empty-list")],
)  # fmt: skip
def test_paddles_documented_list_answers_give_our_lookup_exactly_that_customer(
    paddle: PaddleStub, body: dict[str, Any], address: str, found: tuple[str, ...]
) -> None:
    assert problems(LISTED, body) == []  # the document agrees with itself

    matches = lookup(paddle, body, address)

    assert (matches.customer_ids, matches.request_id) == (found, body["meta"]["request_id"])


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(lambda b: b["data"][0].update(id="ctm_NOT_AN_ID"), "does not match", id="malformed-id"),
        pytest.param(lambda b: b["data"][0].update(id=42), "is not of type 'string'", id="numeric-id"),
        pytest.param(lambda b: b["data"][0].update(email=["jo@example.com"]), "is not of type 'string'",
                     id="email-not-a-string"),
        pytest.param(lambda b: b["data"].__setitem__(0, b["data"][0]["id"]), "is not of type 'object'",
                     id="entry-not-an-object"),
        pytest.param(lambda b: b.update(data=b["data"][0]), "is not of type 'array'", id="data-not-a-list"),
        pytest.param(lambda b: b.pop("data"), "'data' is a required property", id="no-data"),
    ],
)  # fmt: skip
def test_list_answers_paddles_schema_forbids_give_no_customer(paddle: PaddleStub, mutate: Any, expected: str) -> None:
    body = copy.deepcopy(LIST_EXAMPLE)
    assert body["data"][0]["email"] == "jo@example.com"  # the entry each change spoils
    mutate(body)
    assert any(expected in problem for problem in problems(LISTED, body)), problems(LISTED, body)

    with contextlib.suppress(PaddleResponseError):  # refused as a whole, or the forbidden entry not counted
        assert lookup(paddle, body, "jo@example.com").customer_ids == ()
