"""Nothing Paddle sends reaches a caller unchecked: every link in a session answer, every text in an error answer
(Paddle's answer may come from an egress proxy, a mis-set `PADDLE_API_BASE_URL`, or a future Paddle). Links anywhere
under `data.urls` and link-shaped strings elsewhere must pass the overview's checks, or the whole answer is refused;
Paddle's texts pass only when they hold nothing credential- or link-shaped (the screen's table: tests/unit). Every
kind of caller is tried: HTTP JSON, browser redirect, signed-link holder, direct invoker (`_pairs`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from paddle_portal.errors import InvalidRequestError, UpstreamError
from paddle_portal.paddle.screening import screened_request_id
from tests.events import route_event
from tests.integration.checks import assert_error, body_of
from tests.support import (
    API_KEY,
    CUSTOMER_ID,
    LEGACY_API_KEY,
    PORTAL_TOKEN,
    SUBSCRIPTION_ID,
    paddle_error,
    portal_session,
)

FOREIGN = f"https://evil.test/cpl_01j7zbyqs3vah3aafp4jf62qaw?token={PORTAL_TOKEN}"
ALLOWED_EXTRA = f"https://customer-portal.paddle.com/cpl_01j7zbyqs3vah3aafp4jf62qaw?action=history&token={PORTAL_TOKEN}"


HTTP_CALLERS: dict[str, Callable[[], dict[str, Any]]] = {
    "iam-get-redirect": lambda: route_event("http_api", "iam_get", "iam"),
    "iam-post-json": lambda: route_event("http_api", "iam_post", "iam"),
    "jwt-get-json": lambda: route_event("http_api", "jwt_get", "jwt", accept="application/json"),
    "jwt-post-json": lambda: route_event("http_api", "jwt_post", "jwt"),
    "signed-link-follow": lambda: route_event("http_api", "link_follow", accept="text/html"),
}


def _pairs(cases: dict[str, Any], callers: tuple[str, ...]) -> list[Any]:
    """(caller, case): every case for `callers`, and every other caller with the first case. The check runs where
    Paddle's answer is read, the same for every caller; the callers differ in how an answer is written."""
    first = next(iter(cases))
    pairs = [(caller, case) for case in cases for caller in callers]
    pairs += [(caller, first) for caller in HTTP_CALLERS if caller not in callers]
    return [pytest.param(caller, case, id=f"{caller}-{case}") for caller, case in pairs]


def _session(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    answer = portal_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))
    change(answer["data"])
    return answer


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change to Paddle's `data`: `path` is dotted keys and list indexes ("urls.subscriptions.0.pause")."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        node[last] = value

    return change


# Fields Paddle does not document today, holding links we must not pass on.
UNCHECKED_LINKS = {
    "general-unknown-foreign-host": _set("urls.general.billing_history", FOREIGN),
    "general-unknown-http": _set("urls.general.billing_history", ALLOWED_EXTRA.replace("https:", "http:")),
    "general-unknown-javascript": _set("urls.general.billing_history", "javascript:alert(document.cookie)"),
    "subscription-unknown-foreign-host": _set("urls.subscriptions.0.pause_subscription", FOREIGN),
    "nested-unknown-foreign-host": _set("urls.general.more.deeper", [{"link": FOREIGN}]),
    "urls-new-section": _set("urls.addresses", {"edit": "data:text/html,<script>alert(1)</script>"}),
    "urls-plain-text": _set("urls.general.label", "not a link at all"),
    "subscription-id-not-an-id": _set("urls.subscriptions.0.id", FOREIGN),
    "outside-urls-link": _set("invoice_url", FOREIGN),
    "outside-urls-scheme-relative": _set("extra", {"next": "//evil.test/cpl_x"}),
}


@pytest.mark.parametrize(("caller", "change"), _pairs(UNCHECKED_LINKS, ("iam-get-redirect", "iam-post-json")))
def test_an_unchecked_link_anywhere_refuses_the_whole_answer(caller, change, invoke, paddle, aws):
    # Given Paddle answers with a link we cannot vouch for, under a field we do not know
    paddle.answers(201, _session(UNCHECKED_LINKS[change]), customer_id=CUSTOMER_ID)

    # When any kind of HTTP caller asks
    response = invoke(HTTP_CALLERS[caller]())

    # Then nothing of the session is handed on
    assert response["statusCode"] == 502
    assert "Location" not in response["headers"]
    assert PORTAL_TOKEN not in json.dumps(response)
    assert "evil.test" not in json.dumps(response)
    if caller != "signed-link-follow":
        assert_error(response, 502, "bad_gateway")


@pytest.mark.parametrize("change", list(UNCHECKED_LINKS))
def test_an_unchecked_link_raises_upstream_error_for_direct_invokers(change, invoke, paddle, aws):
    paddle.answers(201, _session(UNCHECKED_LINKS[change]), customer_id=CUSTOMER_ID)

    with pytest.raises(UpstreamError) as raised:
        invoke({"customer_id": CUSTOMER_ID})

    assert "evil" not in str(raised.value)
    assert PORTAL_TOKEN not in str(raised.value)


def test_checked_unknown_links_and_other_fields_are_passed_on(invoke, paddle, aws):
    # Given a future Paddle answer: a new link on an allowed host, a new plain field, a new object without links
    def future(data: dict[str, Any]) -> None:
        data["urls"]["general"]["billing_history"] = ALLOWED_EXTRA
        data["urls"]["subscriptions"][0]["pause_subscription"] = ALLOWED_EXTRA
        data["status"] = "active"
        data["updated_at"] = "2024-10-25T06:53:58.123Z"
        data["labels"] = {"note": "Note: renewed early", "count": 2, "flag": None}

    sent = _session(future)
    paddle.answers(201, sent, customer_id=CUSTOMER_ID)

    # When a program asks for JSON and another Lambda invokes directly
    response = invoke(HTTP_CALLERS["iam-post-json"]())
    direct = invoke({"customer_id": CUSTOMER_ID})

    # Then both get Paddle's session exactly as it came: every link in it was checked
    assert response["statusCode"] == 201
    assert body_of(response)["data"] == sent["data"]
    assert direct["data"] == sent["data"]


# --- Paddle's error texts. ---

ECHOES = {
    "api-key": f"Invalid header Authorization: Bearer {API_KEY}",
    "portal-token": f"token {PORTAL_TOKEN} already used",
    "portal-url": f"see https://customer-portal.paddle.com/cpl_01j7zbyqs3vah3aafp4jf62qaw?token={PORTAL_TOKEN}",
    "control-characters": "line one\r\nSet-Cookie: a=b",
}


def _bad_request(detail: str, message: str, *, code: str = "invalid_field", field: str = "subscription_ids[0]") -> Any:
    answer = paddle_error(code, detail, [{"field": field, "message": message}])
    answer["meta"]["request_id"] = f"req-{API_KEY}"
    return answer


def _caller_text(response: dict[str, Any]) -> str:
    return response["body"] if response["headers"]["Content-Type"].startswith("text/html") else json.dumps(response)


@pytest.mark.parametrize(("caller", "echo"), _pairs(ECHOES, ("iam-post-json", "signed-link-follow")))
def test_paddle_texts_that_echo_credentials_never_reach_http_callers(caller, echo, invoke, paddle, aws):
    # Given Paddle's 400 whose detail and field message echo a credential or a link
    paddle.answers(400, _bad_request(ECHOES[echo], ECHOES[echo]), customer_id=CUSTOMER_ID)

    # When any kind of HTTP caller asks
    response = invoke(HTTP_CALLERS[caller]())

    # Then the caller reads our fixed texts; Paddle's code and field name still pass
    assert response["statusCode"] == 400
    text = _caller_text(response)
    assert ECHOES[echo] not in text
    for fragment in (API_KEY, LEGACY_API_KEY, PORTAL_TOKEN, "Bearer", "customer-portal.paddle.com", "Set-Cookie"):
        assert fragment not in text
    assert "Paddle rejected the request." in text
    if caller != "signed-link-follow":
        error = body_of(response)["error"]
        assert error["code"] == "invalid_field"
        assert error["errors"] == [{"field": "subscription_ids[0]", "message": "Paddle rejected this value."}]
        assert body_of(response)["meta"]["request_id"] != f"req-{API_KEY}"


@pytest.mark.parametrize("echo", list(ECHOES))
def test_paddle_texts_that_echo_credentials_never_reach_direct_invokers(echo, invoke, paddle, aws):
    paddle.answers(400, _bad_request(ECHOES[echo], ECHOES[echo]), customer_id=CUSTOMER_ID)

    with pytest.raises(InvalidRequestError) as raised:
        invoke({"customer_id": CUSTOMER_ID})

    message = str(raised.value)
    assert ECHOES[echo] not in message
    assert API_KEY not in message
    assert PORTAL_TOKEN not in message
    assert message.startswith("invalid_field: Paddle rejected the request. (subscription_ids[0]: Paddle rejected")


def test_odd_codes_and_field_names_are_replaced(invoke, paddle, aws):
    message = "must be a valid subscription id"
    answer = _bad_request("Invalid request.", message, code=f"Bearer {API_KEY}", field="https://evil.test/x")
    paddle.answers(400, answer, customer_id=CUSTOMER_ID)

    error = body_of(invoke(HTTP_CALLERS["iam-post-json"]()))["error"]

    assert error["code"] == "http_400"
    assert error["errors"] == [{"field": "(field)", "message": message}]


# --- Request ids: echoed in every answer, so they pass only in their own shape (the screen: unit tier). ---


@pytest.mark.parametrize(
    ("request_id", "expected"),
    [
        ("9f6a8e7c-4a1b-4c3d-8e2f-1a2b3c4d5e6f", "9f6a8e7c-4a1b-4c3d-8e2f-1a2b3c4d5e6f"),
        (f"req-{API_KEY}", None),
        ("https://evil.test", None),
        ("a b", None),
        (7, None),
    ],
)
def test_request_ids_pass_only_in_their_shape(request_id, expected):
    assert screened_request_id(request_id) == expected
