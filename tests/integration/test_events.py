"""Every file in `events/` gives the outcome events/README.md promises, through the real handler.

A new event file without an expectation here fails `test_event_outcome` for that file."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest

from tests.events import EVENTS, load_event
from tests.integration.checks import assert_error, assert_redirect, assert_session, body_of
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID, link_of

SUB_1, SUB_2 = SUBSCRIPTION_ID, OTHER_SUBSCRIPTION_ID
GATEWAY_URL = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
# events/README.md: the obviously fake key `http_api/get_links_portal.json` is signed with (key id k1).
LINK_TEST_KEY = "FAKE_link_signing_key_for_tests_and_samples_only_k1"
LINK_SECRET_ID = "paddle-portal/link-signing-keys"


@dataclass(frozen=True)
class Outcome:
    """What events/README.md promises for one file."""

    status: int | None = None  # HTTP status; None for a direct invocation (returns or raises)
    code: str | None = None  # error code of an HTTP error
    raises: str | None = None  # exception class name of a direct invocation
    paddle: tuple[str, ...] | None = None  # Paddle called for customer A with these subscription ids; None: not called
    location: tuple[str, str | None] | None = None  # 302 target: (link kind, subscription id)
    fields: frozenset[str] = frozenset()  # fields named in errors[]
    signing_key: bool = False  # the link signing secret holds the README's test key (LINK_TEST_KEY)
    link_base_url: str | None = None  # PORTAL_LINK_BASE_URL (None: unset)
    minted: str | None = None  # a signed link was minted: the URL it must start with
    page: bool = False  # the error comes as the HTML page browsers get (signed-link route)


EXPECTED: dict[str, Outcome] = {
    "http_api/post_portal_sessions_iam.json": Outcome(201, paddle=(SUB_1,)),
    "http_api/post_portal_sessions_iam_no_body.json": Outcome(201, paddle=()),
    "http_api/get_portal_iam.json": Outcome(302, paddle=(), location=("overview", None)),
    "http_api/get_portal_iam_deep_link.json": Outcome(200, paddle=(SUB_1,)),
    "http_api/post_portal_sessions_jwt.json": Outcome(201, paddle=(SUB_1, SUB_2)),
    "http_api/get_portal_jwt.json": Outcome(200, paddle=(SUB_2,)),
    "http_api/get_portal_jwt_missing_claim.json": Outcome(403, "forbidden"),
    "http_api/get_portal_jwt_other_customer_query.json": Outcome(
        400, "invalid_field", fields=frozenset({"customer_id"})
    ),
    "http_api/post_portal_sessions_no_identity.json": Outcome(401, "authentication_missing"),
    "http_api/post_portal_sessions_invalid_body.json": Outcome(
        400, "invalid_field", fields=frozenset({"subscription_ids[0]", "extra"})
    ),
    "http_api/post_portal_sessions_not_json.json": Outcome(400, "invalid_json"),
    "http_api/post_portal_links_iam.json": Outcome(
        201,
        signing_key=True,
        minted=f"{GATEWAY_URL}/links/portal?v=1&c={CUSTOMER_ID}&a=cancel_subscription&s={SUB_1}&e=",
    ),
    "http_api/post_portal_links_jwt.json": Outcome(
        201, signing_key=True, minted=f"{GATEWAY_URL}/links/portal?v=1&c={CUSTOMER_ID}&a=overview&s=&e="
    ),
    # Genuinely signed with the test key, but it expired on 2024-10-03: refused, whatever the event's own time says.
    "http_api/get_links_portal.json": Outcome(403, "link_expired", signing_key=True, page=True),
    "rest_api/post_portal_sessions_iam.json": Outcome(201, paddle=(SUB_1,)),
    "rest_api/get_portal_iam.json": Outcome(302, paddle=(SUB_1,), location=("cancel_subscription", SUB_1)),
    "rest_api/get_portal_cognito.json": Outcome(200, paddle=()),
    "rest_api/post_portal_sessions_no_identity.json": Outcome(401, "authentication_missing"),
    "function_url/post_portal_sessions_iam.json": Outcome(201, paddle=(SUB_1,)),
    "function_url/get_portal_no_auth.json": Outcome(401, "authentication_missing"),
    "direct/create_session.json": Outcome(paddle=(SUB_1, SUB_2)),
    "direct/create_session_minimal.json": Outcome(paddle=()),
    "direct/create_portal_link.json": Outcome(
        signing_key=True,
        link_base_url="https://billing.example.com",
        minted=f"https://billing.example.com/links/portal?v=1&c={CUSTOMER_ID}&a=update_subscription_payment_method&s={SUB_2}&e=",
    ),
    "direct/invalid_unknown_field.json": Outcome(raises="InvalidRequestError"),
    "direct/invalid_customer_id.json": Outcome(raises="InvalidRequestError"),
    "unknown/s3_event.json": Outcome(raises="InvalidRequestError"),
}

EVENT_FILES = sorted(str(path.relative_to(EVENTS)) for path in EVENTS.rglob("*.json"))


def test_every_expectation_has_its_event_file():
    assert set(EXPECTED) <= set(EVENT_FILES)


def test_readme_documents_exactly_these_events():
    readme = (EVENTS / "README.md").read_text()

    documented = set(re.findall(r"^\| `([a-z_]+/[a-z_0-9]+\.json)` \|", readme, flags=re.MULTILINE))

    assert documented == set(EVENT_FILES)


def test_readme_names_the_link_test_key():
    assert f'"k1": "{LINK_TEST_KEY}"' in (EVENTS / "README.md").read_text()


@pytest.mark.parametrize("name", EVENT_FILES)
def test_event_outcome(name, invoke, paddle, aws, monkeypatch):
    assert name in EXPECTED, f"events/{name} has no expected outcome in {__name__}.EXPECTED (see events/README.md)"
    expected = EXPECTED[name]
    event = load_event(name)
    if expected.signing_key:
        aws.client.create_secret(Name=LINK_SECRET_ID, SecretString=json.dumps({"active": "k1", "k1": LINK_TEST_KEY}))
        aws.reset()
        monkeypatch.setenv("PORTAL_LINK_SIGNING_SECRET_ID", LINK_SECRET_ID)
    if expected.link_base_url:
        monkeypatch.setenv("PORTAL_LINK_BASE_URL", expected.link_base_url)
    # Given Paddle answers a session for customer A holding links for the subscriptions asked for
    sent = paddle.creates_session(CUSTOMER_ID, expected.paddle) if expected.paddle is not None else None

    # When the real handler gets the event
    if expected.raises:
        with pytest.raises(Exception) as raised:  # noqa: PT011 - the class name is the contract, checked below
            invoke(event)
        assert type(raised.value).__name__ == expected.raises
        result = None
    else:
        result = invoke(event)

    # Then the answer is the promised one
    if expected.minted is not None:
        minted = body_of(result) if expected.status is not None else result
        if expected.status is not None:
            assert result["statusCode"] == expected.status, result["body"]
            assert result["headers"]["Cache-Control"] == "no-store"
        assert set(minted) == {"data", "meta"}
        assert set(minted["data"]) == {"url", "expires_at"}
        assert minted["data"]["url"].startswith(expected.minted)
        request_id = event["requestContext"]["requestId"] if "requestContext" in event else event["correlation_id"]
        assert minted["meta"]["request_id"] == request_id
    elif expected.page:
        assert result["statusCode"] == expected.status
        assert result["headers"]["Content-Type"] == "text/html; charset=utf-8"
        assert result["headers"]["Cache-Control"] == "no-store"
        assert result["headers"]["Content-Security-Policy"] == "default-src 'none'"
        assert "expired" in result["body"]
        assert event["requestContext"]["requestId"] in result["body"]
    elif expected.status is None and expected.raises is None:
        assert sent is not None
        assert result == {"data": sent["data"], "meta": {"request_id": sent["meta"]["request_id"]}}
    elif expected.status in (200, 201):
        assert sent is not None
        assert_session(result, expected.status, sent)
    elif expected.status == 302:
        assert expected.location is not None
        assert sent is not None
        assert_redirect(result, link_of(sent, *expected.location))
    elif expected.status is not None:
        assert expected.code is not None
        error = assert_error(result, expected.status, expected.code, fields=bool(expected.fields))
        assert {item["field"] for item in error.get("errors", ())} == expected.fields
        assert body_of(result)["meta"]["request_id"] == event["requestContext"]["requestId"]

    # And Paddle was called for customer A with exactly those ids, or not at all (nor the API key read); the signing
    # keys were read once where links are minted or followed
    link_reads = 1 if expected.signing_key else 0
    if expected.paddle is None:
        assert paddle.requests == []
        assert aws.get_secret_value == link_reads
    else:
        [request] = paddle.requests
        assert request.path == f"/customers/{CUSTOMER_ID}/portal-sessions"
        assert paddle.sent_json() == ({"subscription_ids": list(expected.paddle)} if expected.paddle else {})
        assert aws.get_secret_value == 1 + link_reads
    assert all(OTHER_CUSTOMER_ID not in request.path for request in paddle.requests)


@pytest.mark.parametrize("name", ["direct/create_session.json", "http_api/post_portal_sessions_iam.json"])
def test_logs_correlate_on_the_payloads_correlation_id_or_the_gateways_request_id(name, invoke, paddle, logs):
    event = load_event(name)
    paddle.creates_session(CUSTOMER_ID, tuple(event.get("subscription_ids", [SUB_1])))

    invoke(event)

    # Every line the invocation logged carries the caller's correlation id (direct), or API Gateway's request id
    assert logs.records
    expected = event["correlation_id"] if "correlation_id" in event else event["requestContext"]["requestId"]
    assert {record.get("correlation_id") for record in logs.records} == {expected}
