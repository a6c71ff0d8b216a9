"""The Paddle fake's own behaviour on its socket, as the local run and the tests rely on it. That its answers are
valid Paddle answers (ids, timestamps, shapes), and that it refuses exactly the bodies Paddle's schema refuses, is the
contract tier's (tests/contract/test_paddle_schemas.py)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import pytest
import urllib3

from local.paddle_fake import Customer, PaddleFake
from tests.support import API_KEY, CUSTOMER_ID, OTHER_CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID

PORTAL_LINK = r"https://{host}/cpl_[a-z\d]{{26}}\?action={action}{sub}&token=pga_[\w-]+"


@pytest.fixture
def fake() -> Iterator[PaddleFake]:
    with PaddleFake(API_KEY) as paddle_fake:
        yield paddle_fake


def post(fake: PaddleFake, body: bytes = b"", customer_id: str = CUSTOMER_ID) -> urllib3.BaseHTTPResponse:
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json", "Paddle-Version": "1"}
    return urllib3.request("POST", f"{fake.url}/customers/{customer_id}/portal-sessions", body=body, headers=headers)


@pytest.mark.parametrize("sandbox", [False, True], ids=["live", "sandbox"])
def test_a_session_holds_fresh_ids_and_links_to_its_customers_portal(sandbox: bool) -> None:
    host = re.escape("sandbox-customer-portal.paddle.com" if sandbox else "customer-portal.paddle.com")
    with PaddleFake(API_KEY, sandbox=sandbox) as fake:
        body = json.dumps({"subscription_ids": [SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID]}).encode()
        first, second = post(fake, body), post(fake)

    session = first.json()
    assert first.status == 201
    assert first.headers["Request-Id"] == session["meta"]["request_id"]  # a header Paddle documents
    assert uuid.UUID(session["meta"]["request_id"]).version == 4
    assert session["data"]["customer_id"] == CUSTOMER_ID
    urls = session["data"]["urls"]
    assert re.fullmatch(PORTAL_LINK.format(host=host, action="overview", sub=""), urls["general"]["overview"])
    assert [s["id"] for s in urls["subscriptions"]] == [SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID]
    for links in urls["subscriptions"]:
        for action in ("cancel_subscription", "update_subscription_payment_method"):
            assert re.fullmatch(
                PORTAL_LINK.format(host=host, action=action, sub=f"&subscription_id={links['id']}"), links[action]
            )
    again = second.json()  # fresh ids and tokens
    assert again["data"]["id"] != session["data"]["id"]
    assert again["meta"]["request_id"] != session["meta"]["request_id"]
    assert again["data"]["urls"]["general"]["overview"] != urls["general"]["overview"]


def test_every_link_handed_out_leads_back_to_its_customer(fake: PaddleFake) -> None:
    mine = post(fake, b'{"subscription_ids": ["%s"]}' % SUBSCRIPTION_ID.encode()).json()["data"]["urls"]
    theirs = post(fake, customer_id=OTHER_CUSTOMER_ID).json()["data"]["urls"]["general"]["overview"]

    assert fake.customer_of_link(mine["general"]["overview"]) == CUSTOMER_ID
    assert fake.customer_of_link(mine["subscriptions"][0]["cancel_subscription"]) == CUSTOMER_ID
    assert fake.customer_of_link(theirs) == OTHER_CUSTOMER_ID
    # A token it never issued, or one moved to another portal or host, opens nothing
    assert fake.customer_of_link(f"{theirs.partition('token=')[0]}token=pga_{'x' * 64}") is None
    assert fake.customer_of_link(theirs.replace(fake.portal_id, "cpl_" + "0" * 26)) is None
    assert fake.customer_of_link(theirs.replace("https://customer-portal.", "https://evil.")) is None


def test_the_key_is_checked_first_and_requests_are_recorded_over_one_connection(fake: PaddleFake) -> None:
    pool = urllib3.HTTPConnectionPool("127.0.0.1", int(fake.url.rsplit(":", 1)[1]), maxsize=1)
    path, key = f"/customers/{CUSTOMER_ID}/portal-sessions", {"Authorization": f"Bearer {API_KEY}"}

    wrong = {"Authorization": "Bearer x"}
    answers = [pool.request("POST", path, body=b'{"subscription_ids":[]}', headers=key),
               pool.request("POST", "/customers/bad/portal-sessions", body=b"{not json", headers=wrong),
               pool.request("GET", path, headers=key)]  # fmt: skip

    codes = [(a.status, a.json().get("error", {}).get("code")) for a in answers]
    assert codes == [(201, None), (403, "invalid_token"), (404, "not_found")]
    first = fake.requests[0]
    assert (first.method, first.path, first.headers["authorization"]) == ("POST", path, key["Authorization"])
    assert first.body == b'{"subscription_ids":[]}'
    assert [r.method for r in fake.requests] == ["POST", "POST", "GET"]
    assert fake.connections == 1
    url = fake.url
    fake.stop()  # and the port is closed
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        urllib3.request("POST", url, retries=urllib3.Retry(0))


KNOWN = (Customer(CUSTOMER_ID, "sam@example.com", "Sam Miller"), Customer(OTHER_CUSTOMER_ID, "jo@example.com"),
         Customer("ctm_" + "2" * 26, "archived@example.com", status="archived"))  # fmt: skip


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        pytest.param("email=sam@example.com&status=active", [CUSTOMER_ID], id="exact-email"),
        pytest.param("email=sam@example.com", [CUSTOMER_ID], id="active-by-default"),
        pytest.param("email=jo@example.com,sam@example.com", [CUSTOMER_ID, OTHER_CUSTOMER_ID], id="comma-list"),
        pytest.param("email=Sam@example.com", [], id="case-differs"),
        pytest.param("email=sam@example", [], id="prefix-only"),
        pytest.param("email=archived@example.com", [], id="archived-not-by-default"),
        pytest.param("email=archived@example.com&status=archived", ["ctm_" + "2" * 26], id="archived-when-asked"),
        pytest.param(f"id={OTHER_CUSTOMER_ID}", [OTHER_CUSTOMER_ID], id="by-id"),
    ],
)
def test_list_customers_filters_as_paddle_documents(query: str, ids: list[str]) -> None:
    with PaddleFake(API_KEY, customers=KNOWN) as fake:
        response = urllib3.request(
            "GET", f"{fake.url}/customers?{query}", headers={"Authorization": f"Bearer {API_KEY}"}
        )

    assert response.status == 200
    assert [customer["id"] for customer in response.json()["data"]] == ids
    assert response.json()["meta"]["pagination"]["estimated_total"] == len(ids)
