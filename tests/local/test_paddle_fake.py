"""The Paddle fake answers as Paddle's OpenAPI document says: this is what keeps it from drifting from Paddle."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from local.paddle_fake import Customer, PaddleFake
from tests.support import API_KEY, CUSTOMER_ID, OTHER_CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID

OPENAPI = Path(__file__).resolve().parents[1] / "contract" / "paddle" / "openapi.yaml"
DOC_URI = "urn:paddle:openapi"
OPERATION = "#/paths/~1customers~1{customer_id}~1portal-sessions/post"
UNKNOWN_CUSTOMER = "ctm_" + "0" * 26
UNKNOWN_SUBSCRIPTION = "sub_" + "0" * 26
MS_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(scope="module")
def registry() -> Registry:
    if not OPENAPI.exists():
        pytest.skip(f"{OPENAPI} (Paddle's OpenAPI document) is not in the repository")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # a safe loader either way; the C one is 10x faster
    document = yaml.load(OPENAPI.read_text(), Loader=loader)  # noqa: S506
    assert document["openapi"].startswith("3.1")  # OpenAPI 3.1 schemas are JSON Schema 2020-12
    return Registry().with_resource(DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012))


def validator(registry: Registry, pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` in Paddle's document, its `$ref`s resolved within the document."""
    return Draft202012Validator({"$ref": DOC_URI + pointer}, registry=registry)


def assert_valid(registry: Registry, pointer: str, instance: Any) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(registry, pointer).iter_errors(instance)]
    assert errors == [], f"not valid against {pointer}"


@pytest.fixture
def fake() -> Iterator[PaddleFake]:
    with PaddleFake(API_KEY, unknown_customers={UNKNOWN_CUSTOMER}, unknown_subscriptions={UNKNOWN_SUBSCRIPTION}) as f:
        yield f


def post(
    fake: PaddleFake, body: Any = None, customer_id: str = CUSTOMER_ID, key: str | None = API_KEY, raw: bytes = b""
) -> urllib3.BaseHTTPResponse:
    headers = {"Content-Type": "application/json", "Paddle-Version": "1"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = raw or (json.dumps(body).encode() if body is not None else b"")
    return urllib3.request("POST", f"{fake.url}/customers/{customer_id}/portal-sessions", body=data, headers=headers)


@pytest.mark.parametrize("subscription_ids", [(), (SUBSCRIPTION_ID,), (SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID)])
def test_created_session_matches_paddles_201_schema(
    fake: PaddleFake, registry: Registry, subscription_ids: tuple[str, ...]
) -> None:
    response = post(fake, {"subscription_ids": list(subscription_ids)})

    body = response.json()
    assert response.status == 201
    assert_valid(registry, f"{OPERATION}/responses/201/content/application~1json/schema", body)
    assert_valid(registry, "#/components/schemas/customer-portal-session", body["data"])
    session = body["data"]
    assert re.fullmatch(r"cpls_[a-z\d]{26}", session["id"])
    assert session["customer_id"] == CUSTOMER_ID
    assert MS_TIMESTAMP.match(session["created_at"])
    assert uuid.UUID(body["meta"]["request_id"]).version == 4
    assert response.headers["Request-Id"] == body["meta"]["request_id"]  # Paddle's spec: a required header
    assert re.fullmatch(
        r"https://customer-portal\.paddle\.com/cpl_[a-z\d]{26}\?action=overview&token=pga_[\w-]+",
        session["urls"]["general"]["overview"],
    )
    assert [s["id"] for s in session["urls"]["subscriptions"]] == list(subscription_ids)
    for links in session["urls"]["subscriptions"]:
        for action in ("cancel_subscription", "update_subscription_payment_method"):
            assert re.fullmatch(
                rf"https://customer-portal\.paddle\.com/cpl_[a-z\d]{{26}}\?action={action}"
                rf"&subscription_id={links['id']}&token=pga_[\w-]+",
                links[action],
            )


def test_sandbox_fake_links_to_the_sandbox_portal() -> None:
    with PaddleFake(API_KEY, sandbox=True) as fake:
        session = post(fake, {}).json()["data"]

    assert session["urls"]["general"]["overview"].startswith("https://sandbox-customer-portal.paddle.com/cpl_")


def test_every_link_handed_out_leads_back_to_its_customer(fake: PaddleFake) -> None:
    mine = post(fake, {"subscription_ids": [SUBSCRIPTION_ID]}).json()["data"]["urls"]
    theirs = post(fake, customer_id=OTHER_CUSTOMER_ID).json()["data"]["urls"]["general"]["overview"]

    assert fake.customer_of_link(mine["general"]["overview"]) == CUSTOMER_ID
    assert fake.customer_of_link(mine["subscriptions"][0]["cancel_subscription"]) == CUSTOMER_ID
    assert fake.customer_of_link(theirs) == OTHER_CUSTOMER_ID
    # A token it never issued, or one moved to another portal or host, opens nothing
    base = theirs.partition("token=")[0]
    assert fake.customer_of_link(f"{base}token=pga_{'x' * 64}") is None
    assert fake.customer_of_link(theirs.replace(fake.portal_id, "cpl_" + "0" * 26)) is None
    assert fake.customer_of_link(theirs.replace("https://customer-portal.", "https://evil.")) is None


def test_each_session_has_fresh_ids_and_tokens(fake: PaddleFake) -> None:
    first, second = (post(fake).json() for _ in range(2))

    assert first["data"]["id"] != second["data"]["id"]
    assert first["meta"]["request_id"] != second["meta"]["request_id"]
    assert first["data"]["urls"]["general"]["overview"] != second["data"]["urls"]["general"]["overview"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="empty-object"),
        pytest.param({"subscription_ids": []}, id="no-ids"),
        pytest.param({"subscription_ids": [f"sub_{n:026d}" for n in range(1, 26)]}, id="25-ids"),
        pytest.param({"subscription_ids": [f"sub_{n:026d}" for n in range(1, 27)]}, id="26-ids"),
        pytest.param({"subscription_ids": [SUBSCRIPTION_ID, SUBSCRIPTION_ID]}, id="duplicates"),
        pytest.param({"subscription_ids": ["sub_123"]}, id="short-id"),
        pytest.param({"subscription_ids": [SUBSCRIPTION_ID.upper()]}, id="upper-case-id"),
        pytest.param({"subscription_ids": [CUSTOMER_ID]}, id="customer-id-as-subscription"),
        pytest.param({"subscription_ids": [1]}, id="number"),
        pytest.param({"subscription_ids": SUBSCRIPTION_ID}, id="string-not-array"),
        pytest.param({"subscription_ids": [SUBSCRIPTION_ID], "customer_id": CUSTOMER_ID}, id="extra-field"),
    ],
)
def test_fake_accepts_exactly_the_bodies_paddles_request_schema_accepts(
    fake: PaddleFake, registry: Registry, body: dict[str, Any]
) -> None:
    schema_ok = validator(registry, "#/components/schemas/customer-portal-session-create").is_valid(body)

    response = post(fake, body)

    assert response.status == (201 if schema_ok else 400)
    if not schema_ok:
        assert_valid(registry, "#/components/schemas/error", response.json())
        error = response.json()["error"]
        assert error["code"] == "invalid_field"
        assert error["errors"]
        assert all(set(e) == {"field", "message"} for e in error["errors"])


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        pytest.param({"key": None}, 403, "authentication_missing", id="no-authorization-header"),
        pytest.param(
            {"key": "pdl_sdbx_apikey_01gtgztp8f4kek3yd4g1wrksa3_FAKEFAKEFAKEFAKEFAKE_ZZZ"},
            403,
            "invalid_token",
            id="wrong-key",
        ),
        pytest.param({"key": ""}, 403, "authentication_malformed", id="empty-bearer"),
        pytest.param({"customer_id": "ctm_123"}, 404, "not_found", id="malformed-customer-id"),
        pytest.param({"customer_id": UNKNOWN_CUSTOMER}, 404, "not_found", id="unknown-customer"),
        pytest.param(
            {"body": {"subscription_ids": [UNKNOWN_SUBSCRIPTION]}}, 404, "not_found", id="unknown-subscription"
        ),
        pytest.param({"raw": b"{not json"}, 400, "invalid_json", id="not-json"),
        pytest.param({"raw": b"[]"}, 400, "bad_request", id="json-array"),
    ],
)
def test_errors_use_paddles_envelope(
    fake: PaddleFake, registry: Registry, kwargs: dict[str, Any], status: int, code: str
) -> None:
    response = post(fake, **kwargs)

    body = response.json()
    assert (response.status, body["error"]["code"]) == (status, code)
    assert_valid(registry, "#/components/schemas/error", body)
    assert body["error"]["type"] == "request_error"
    assert body["error"]["documentation_url"] == f"https://developer.paddle.com/v1/errors/shared/{code}"
    assert uuid.UUID(body["meta"]["request_id"])


def test_key_is_checked_before_anything_else(fake: PaddleFake) -> None:
    response = post(fake, raw=b"{not json", customer_id="bad", key="wrong")

    assert (response.status, response.json()["error"]["code"]) == (403, "invalid_token")


def test_requests_are_recorded(fake: PaddleFake) -> None:
    post(fake, {"subscription_ids": [SUBSCRIPTION_ID]})
    urllib3.request("GET", f"{fake.url}/customers/{CUSTOMER_ID}/portal-sessions")

    first, second = fake.requests
    assert (first.method, first.path) == ("POST", f"/customers/{CUSTOMER_ID}/portal-sessions")
    assert first.headers["authorization"] == f"Bearer {API_KEY}"
    assert first.headers["paddle-version"] == "1"
    assert json.loads(first.body) == {"subscription_ids": [SUBSCRIPTION_ID]}
    assert (second.method, second.body) == ("GET", b"")


def test_keep_alive_reuses_one_connection(fake: PaddleFake) -> None:
    pool = urllib3.HTTPConnectionPool("127.0.0.1", int(fake.url.rsplit(":", 1)[1]), maxsize=1)

    statuses = [
        pool.request(
            "POST", f"/customers/{CUSTOMER_ID}/portal-sessions", headers={"Authorization": f"Bearer {API_KEY}"}
        ).status
        for _ in range(3)
    ]

    assert statuses == [201, 201, 201]
    assert fake.connections == 1
    assert len(fake.requests) == 3


def test_stop_closes_the_port() -> None:
    fake = PaddleFake(API_KEY)
    url = fake.url

    fake.stop()

    with pytest.raises(urllib3.exceptions.MaxRetryError):
        urllib3.request("POST", url, retries=urllib3.Retry(0))


# --- list customers (GET /customers), what a lookup by verified email asks -----------------------------------------

LIST = "#/paths/~1customers/get"
KNOWN = (
    Customer(CUSTOMER_ID, "sam@example.com", "Sam Miller"),
    Customer(OTHER_CUSTOMER_ID, "jo@example.com"),
    Customer("ctm_" + "2" * 26, "archived@example.com", status="archived"),
)


def list_customers(query: str, key: str = API_KEY) -> urllib3.BaseHTTPResponse:
    with PaddleFake(API_KEY, customers=KNOWN) as fake:
        return urllib3.request("GET", f"{fake.url}/customers?{query}", headers={"Authorization": f"Bearer {key}"})


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        pytest.param("email=sam@example.com&status=active", [CUSTOMER_ID], id="exact-email"),
        pytest.param("email=sam@example.com", [CUSTOMER_ID], id="active-by-default"),
        pytest.param("email=jo@example.com,sam@example.com", [CUSTOMER_ID, OTHER_CUSTOMER_ID], id="comma-list"),
        pytest.param("email=Sam@example.com", [], id="case-differs"),
        pytest.param("email=sam@example", [], id="prefix-only"),
        pytest.param("email=nobody@example.com&status=active", [], id="unknown"),
        pytest.param("email=archived@example.com", [], id="archived-not-by-default"),
        pytest.param("email=archived@example.com&status=archived", ["ctm_" + "2" * 26], id="archived-when-asked"),
        pytest.param(f"id={OTHER_CUSTOMER_ID}", [OTHER_CUSTOMER_ID], id="by-id"),
    ],
)
def test_list_customers_filters_as_paddle_documents(registry: Registry, query: str, ids: list[str]) -> None:
    response = list_customers(query)

    body = response.json()
    assert response.status == 200
    assert_valid(registry, f"{LIST}/responses/200/content/application~1json/schema", body)
    assert [customer["id"] for customer in body["data"]] == ids
    assert body["meta"]["pagination"]["estimated_total"] == len(ids)


@pytest.mark.parametrize(
    ("query", "key", "status", "code"),
    [
        pytest.param("email=" + "a" * 95 + "@example.com", API_KEY, 400, "invalid_field", id="email-over-100"),
        pytest.param("status=deleted", API_KEY, 400, "invalid_field", id="unknown-status"),
        pytest.param("email=sam@example.com", "wrong", 403, "invalid_token", id="wrong-key"),
    ],
)
def test_list_customers_errors(registry: Registry, query: str, key: str, status: int, code: str) -> None:
    response = list_customers(query, key)

    assert (response.status, response.json()["error"]["code"]) == (status, code)
    assert_valid(registry, "#/components/schemas/error", response.json())
