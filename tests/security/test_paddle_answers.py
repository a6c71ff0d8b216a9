"""Nothing Paddle sends reaches a caller unchecked: every link in a session answer, every text in an error answer.

Paddle's answer may come from something else (an egress proxy, a mis-set `PADDLE_API_BASE_URL`) or from a future
Paddle with fields we do not know. Links anywhere under `data.urls` (known fields or not) and link-shaped strings
elsewhere must pass the overview's checks, or the whole answer is refused (502, no link handed on). Paddle's error
texts reach a caller only when they hold nothing credential- or link-shaped (screening.py). Each case runs for every
kind of caller: HTTP JSON, browser redirect, direct invoker, and the anonymous holder of a signed link.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from paddle_portal.errors import InvalidRequestError, UpstreamError
from paddle_portal.paddle.screening import screened, screened_code, screened_field, screened_request_id
from tests.events import claims_with, route_event, set_identity, signed_query, with_query
from tests.integration.checks import assert_error, body_of
from tests.support import API_KEY, CUSTOMER_ID, LEGACY_API_KEY, PORTAL_TOKEN, SUBSCRIPTION_ID, portal_session

FOREIGN = f"https://evil.test/cpl_01j7zbyqs3vah3aafp4jf62qaw?token={PORTAL_TOKEN}"
ALLOWED_EXTRA = f"https://customer-portal.paddle.com/cpl_01j7zbyqs3vah3aafp4jf62qaw?action=history&token={PORTAL_TOKEN}"


def _follow_event() -> dict[str, Any]:
    event = with_query(route_event("http_api", "link_follow"), signed_query(CUSTOMER_ID))
    event["headers"] = {**(event.get("headers") or {}), "accept": "text/html"}
    return event


HTTP_CALLERS: dict[str, Callable[[], dict[str, Any]]] = {
    "iam-get-redirect": lambda: set_identity(route_event("http_api", "iam_get"), "iam"),
    "iam-post-json": lambda: set_identity(route_event("http_api", "iam_post"), "iam"),
    "jwt-get-json": lambda: _accept_json(
        set_identity(route_event("http_api", "jwt_get"), "jwt", claims_with(CUSTOMER_ID))
    ),
    "jwt-post-json": lambda: set_identity(route_event("http_api", "jwt_post"), "jwt", claims_with(CUSTOMER_ID)),
    "signed-link-follow": _follow_event,
}


def _accept_json(event: dict[str, Any]) -> dict[str, Any]:
    event["headers"] = {**(event.get("headers") or {}), "accept": "application/json"}
    return event


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


@pytest.mark.parametrize("caller", list(HTTP_CALLERS))
@pytest.mark.parametrize("change", list(UNCHECKED_LINKS))
def test_an_unchecked_link_anywhere_refuses_the_whole_answer(
    caller: str, change: str, invoke: Any, paddle: Any, aws: Any
) -> None:
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
def test_an_unchecked_link_raises_upstream_error_for_direct_invokers(
    change: str, invoke: Any, paddle: Any, aws: Any
) -> None:
    paddle.answers(201, _session(UNCHECKED_LINKS[change]), customer_id=CUSTOMER_ID)

    with pytest.raises(UpstreamError) as raised:
        invoke({"customer_id": CUSTOMER_ID})

    assert "evil" not in str(raised.value)
    assert PORTAL_TOKEN not in str(raised.value)


def test_checked_unknown_links_and_other_fields_are_passed_on(invoke: Any, paddle: Any, aws: Any) -> None:
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
    "bearer": "Bearer abc was refused",
    "legacy-key": f"key {LEGACY_API_KEY} is not valid",
    "portal-token": f"token {PORTAL_TOKEN} already used",
    "portal-url": f"see https://customer-portal.paddle.com/cpl_01j7zbyqs3vah3aafp4jf62qaw?token={PORTAL_TOKEN}",
    "bare-host": "customer-portal.paddle.com/cpl_01j7zbyqs3vah3aafp4jf62qaw",
    "control-characters": "line one\r\nSet-Cookie: a=b",
}
PLAIN_DETAIL = "Invalid request."
PLAIN_MESSAGE = "must be a valid subscription id"


def _bad_request(detail: str, message: str, *, code: str = "invalid_field", field: str = "subscription_ids[0]") -> Any:
    return {
        "error": {
            "type": "request_error",
            "code": code,
            "detail": detail,
            "documentation_url": "https://developer.paddle.com/v1/errors/shared/invalid_field",
            "errors": [{"field": field, "message": message}],
        },
        "meta": {"request_id": f"req-{API_KEY}"},
    }


def _caller_text(response: dict[str, Any]) -> str:
    return response["body"] if response["headers"]["Content-Type"].startswith("text/html") else json.dumps(response)


@pytest.mark.parametrize("caller", list(HTTP_CALLERS))
@pytest.mark.parametrize("echo", list(ECHOES))
def test_paddle_texts_that_echo_credentials_never_reach_http_callers(
    caller: str, echo: str, invoke: Any, paddle: Any, aws: Any
) -> None:
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
def test_paddle_texts_that_echo_credentials_never_reach_direct_invokers(
    echo: str, invoke: Any, paddle: Any, aws: Any
) -> None:
    paddle.answers(400, _bad_request(ECHOES[echo], ECHOES[echo]), customer_id=CUSTOMER_ID)

    with pytest.raises(InvalidRequestError) as raised:
        invoke({"customer_id": CUSTOMER_ID})

    message = str(raised.value)
    assert ECHOES[echo] not in message
    assert API_KEY not in message
    assert PORTAL_TOKEN not in message
    assert message.startswith("invalid_field: Paddle rejected the request. (subscription_ids[0]: Paddle rejected")


@pytest.mark.parametrize("caller", list(HTTP_CALLERS))
def test_plain_paddle_texts_still_reach_the_caller(caller: str, invoke: Any, paddle: Any, aws: Any) -> None:
    paddle.answers(400, _bad_request(PLAIN_DETAIL, PLAIN_MESSAGE), customer_id=CUSTOMER_ID)

    text = _caller_text(invoke(HTTP_CALLERS[caller]()))

    assert PLAIN_DETAIL in text
    if caller != "signed-link-follow":  # the page shows the detail only
        assert PLAIN_MESSAGE in text


def test_odd_codes_and_field_names_are_replaced(invoke: Any, paddle: Any, aws: Any) -> None:
    answer = _bad_request(PLAIN_DETAIL, PLAIN_MESSAGE, code=f"Bearer {API_KEY}", field="https://evil.test/x")
    paddle.answers(400, answer, customer_id=CUSTOMER_ID)

    error = body_of(invoke(HTTP_CALLERS["iam-post-json"]()))["error"]

    assert error["code"] == "http_400"
    assert error["errors"] == [{"field": "(field)", "message": PLAIN_MESSAGE}]


# --- The screen itself, as a table. ---

SCREEN_PASSES = [
    "Invalid request.",
    "subscription_ids[0]: must match ^sub_[a-z\\d]{26}$",
    "customer ctm_01gysfvfy7vqhpzkq8rjmrq7an has no subscription sub_01h04vsc0qhwtsbsxh3422wjs4",
    "Note: 25 items at most",
]
SCREEN_REFUSES = [
    *ECHOES.values(),
    "pdl_live_apikey_01abc",
    "PDL_SDBX_APIKEY_x",
    "pga_abc",
    "javascript:alert(1)",
    "http://evil.test",
    "www.evil.test",
    "x" * 501,
    "",
]


@pytest.mark.parametrize("text", SCREEN_PASSES)
def test_screen_passes_plain_text(text: str) -> None:
    assert screened(text, "fixed") == text


@pytest.mark.parametrize("text", SCREEN_REFUSES)
def test_screen_replaces_credential_shaped_text(text: str) -> None:
    assert screened(text, "fixed") == "fixed"


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
def test_request_ids_pass_only_in_their_shape(request_id: object, expected: str | None) -> None:
    assert screened_request_id(request_id) == expected


def test_codes_and_fields_pass_in_paddle_shapes() -> None:
    assert screened_code("customer_not_found", "x") == "customer_not_found"
    assert screened_code("Not A Code", "x") == "x"
    assert screened_field("subscription_ids[3]") == "subscription_ids[3]"
    assert screened_field("apikey") == "(field)"


def test_session_answers_are_not_changed_by_the_check() -> None:
    from paddle_portal.paddle.session import PortalSession

    sent = portal_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))
    kept = copy.deepcopy(sent["data"])
    session = PortalSession.from_paddle(sent["data"], "r", ("customer-portal.paddle.com",), CUSTOMER_ID)
    assert session.as_json()["data"] == kept
