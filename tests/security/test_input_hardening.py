"""Hostile input: oversized, non-UTF-8, deeply nested or look-alike bodies and ids, odd header cases, repeated
query parameters, CR/LF everywhere; then Hypothesis-generated events and payloads.

Properties: on the API path the handler always answers (never raises: API Gateway would turn that into its own
502), a client's mistake is never a 5xx while Paddle answers normally, every refusal happens before Paddle is
called, and no answer carries a header value with CR or LF. On the direct path only `InvalidRequestError` escapes
for a bad payload.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import string
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st

from paddle_portal.errors import InvalidRequestError, PortalError
from paddle_portal.paddle.session import is_allowed_link
from tests.events import (
    CLAIM,
    FORMATS,
    REST_COGNITO_CLAIMS,
    ROUTE_AUTH,
    ROUTES,
    claims_with,
    route_event,
    set_identity,
    signed_query,
)
from tests.integration.checks import assert_error, body_of
from tests.security.cases import customers_called
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, SUBSCRIPTION_ID

MAX_BODY_BYTES = 16 * 1024  # the contract: a body over 16 KiB is a 413
ALLOWED_HOSTS = ("customer-portal.paddle.com", "sandbox-customer-portal.paddle.com")


def assert_well_formed(response: Any) -> None:
    """What API Gateway needs to pass an answer on: never an exception, never a header it would choke on."""
    assert isinstance(response, dict)
    assert isinstance(response["statusCode"], int)
    assert 200 <= response["statusCode"] <= 599
    assert isinstance(response["body"], str)
    assert response["headers"]["Cache-Control"] == "no-store"
    for name, value in response["headers"].items():
        assert isinstance(value, str)
        assert "\r" not in value, (name, value)
        assert "\n" not in value, (name, value)
    if response["statusCode"] == 302:
        assert is_allowed_link(response["headers"]["Location"], ALLOWED_HOSTS)
    else:
        assert "Location" not in response["headers"]


def _post(fmt: str = "http_api", body: str | None = None, *, base64_encoded: bool = False) -> dict[str, Any]:
    event = set_identity(route_event(fmt, "iam_post"), "iam")
    event["body"] = body
    event["isBase64Encoded"] = base64_encoded
    return event


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _valid_body_of_size(size: int) -> str:
    """`{"subscription_ids":[sub]}` padded with JSON whitespace to exactly `size` bytes."""
    core = json.dumps({"subscription_ids": [SUBSCRIPTION_ID]})
    return core + " " * (size - len(core))


# --- Body size ---


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("encoded", [False, True], ids=["text", "base64"])
def test_body_of_exactly_16_kib_is_accepted(fmt: str, encoded: bool, invoke: Any, paddle_any: Any, aws: Any) -> None:
    body = _valid_body_of_size(MAX_BODY_BYTES)
    event = _post(fmt, _b64(body.encode()) if encoded else body, base64_encoded=encoded)

    response = invoke(event)

    assert response["statusCode"] == 201, response["body"]
    assert paddle_any.sent_json() == {"subscription_ids": [SUBSCRIPTION_ID]}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("body", "encoded"),
    [
        (_valid_body_of_size(MAX_BODY_BYTES + 1), False),
        (_b64(_valid_body_of_size(MAX_BODY_BYTES + 1).encode()), True),
        (_b64(b"\0" * (4 * 1024 * 1024)), True),  # 4 MiB: refused by length before it is decoded
        (json.dumps({"subscription_ids": []}) + " " * (6 * 1024 * 1024), False),
        # 6,000 two-byte characters: fewer than 16 Ki characters, more than 16 KiB
        (json.dumps({"subscription_ids": [], "x": "\u00e9" * 9000}, ensure_ascii=False), False),
    ],
    ids=["one-byte-over", "base64-one-byte-over", "base64-4-mib", "text-6-mib", "multibyte-over-in-bytes"],
)
def test_body_over_16_kib_is_413(fmt: str, body: str, encoded: bool, invoke: Any, paddle_any: Any, aws: Any) -> None:
    response = invoke(_post(fmt, body, base64_encoded=encoded))

    assert_error(response, 413, "request_too_large")
    assert paddle_any.requests == []
    assert aws.get_secret_value == 0


# --- Bodies that are not UTF-8 JSON objects ---


@pytest.mark.parametrize(
    ("body", "encoded"),
    [
        (_b64(b"\xff\xfe{\x00}\x00"), True),
        (_b64('{"subscription_ids": []}'.encode("utf-16")), True),
        (_b64(b'{"subscription_ids": ["\xc0\xaf"]}'), True),  # overlong encoding of "/"
        (_b64(b"\xed\xa0\x80"), True),  # an encoded surrogate
        ('{"subscription_ids": ["\ud800"]}', False),  # a lone surrogate in the event's JSON string
        ("not base64!", True),
        ("[" * 5000 + "]" * 5000, False),  # deeper than the JSON parser recurses
        ('{"subscription_ids": ' + "[" * 3000 + "]" * 3000 + "}", False),
        ("[]", False),
        ('"a string"', False),
        ("null", False),
        ("1" * 5000, False),  # an integer longer than Python's int-to-str limit
        ('{"subscription_ids": [], "subscription_ids": NaN}', False),
    ],
    ids=[
        "utf16-bom",
        "utf16-json",
        "overlong-utf8",
        "encoded-surrogate",
        "lone-surrogate",
        "bad-base64",
        "nested-arrays-5000",
        "nested-in-field-3000",
        "array",
        "string",
        "null",
        "huge-integer",
        "nan",
    ],
)
def test_unreadable_body_is_400_before_paddle(body: str, encoded: bool, invoke: Any, paddle_any: Any, aws: Any) -> None:
    response = invoke(_post("http_api", body, base64_encoded=encoded))

    assert response["statusCode"] == 400, response["body"]
    assert body_of(response)["error"]["code"] in {"invalid_json", "invalid_field"}
    assert_well_formed(response)
    assert paddle_any.requests == []
    assert aws.get_secret_value == 0


@pytest.mark.parametrize(
    "document",
    [
        {"subscription_ids": [SUBSCRIPTION_ID] * 400},
        {"subscription_ids": list(range(2500))},
        {"subscription_ids": [f"sub_{i:026d}" for i in range(26)]},
        {"subscription_ids": [[[[[[[[[[SUBSCRIPTION_ID]]]]]]]]]]},
        {"subscription_ids": {"0": SUBSCRIPTION_ID}},
        {"x" * 5000: 1},
        {f"k{i}": i for i in range(1200)},
    ],
    ids=[
        "400-duplicates",
        "3000-integers",
        "26-ids",
        "nested-lists",
        "object-not-list",
        "5000-char-name",
        "1200-fields",
    ],
)
def test_huge_or_odd_documents_are_400_with_a_bounded_answer(
    document: Any, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    body = json.dumps(document, separators=(",", ":"))
    assert len(body.encode()) <= MAX_BODY_BYTES

    response = invoke(_post("http_api", body))

    error = assert_error(response, 400, "invalid_field", fields=True)
    # The answer stays bounded whatever was sent: field names cut at 100 characters, values never echoed.
    assert len(response["body"]) <= 8 * MAX_BODY_BYTES
    assert all(len(item["field"]) <= 100 for item in error["errors"])
    assert "x" * 101 not in response["body"]
    assert paddle_any.requests == []


# --- Ids that only look right ---

LOOKALIKE_SUBSCRIPTIONS = {
    "cyrillic-s": SUBSCRIPTION_ID.replace("s", "\u0455", 1),
    "fullwidth-digit": SUBSCRIPTION_ID[:-1] + "\uff14",
    "arabic-indic-digit": SUBSCRIPTION_ID[:-1] + "\u0664",
    "zero-width-space": SUBSCRIPTION_ID[:8] + "\u200b" + SUBSCRIPTION_ID[8:],
    "combining-mark": SUBSCRIPTION_ID + "\u0301",
    "upper-case": SUBSCRIPTION_ID.upper(),
    "trailing-newline": SUBSCRIPTION_ID + "\n",
    "nul": SUBSCRIPTION_ID + "\x00",
}


@pytest.mark.parametrize("value", list(LOOKALIKE_SUBSCRIPTIONS.values()), ids=list(LOOKALIKE_SUBSCRIPTIONS))
def test_lookalike_subscription_in_body_is_400(value: str, invoke: Any, paddle_any: Any, aws: Any) -> None:
    response = invoke(_post("http_api", json.dumps({"subscription_ids": [value]})))

    assert_error(response, 400, "invalid_field", fields=True)
    assert paddle_any.requests == []


@pytest.mark.parametrize("value", list(LOOKALIKE_SUBSCRIPTIONS.values()), ids=list(LOOKALIKE_SUBSCRIPTIONS))
def test_lookalike_subscription_in_query_is_400(value: str, invoke: Any, paddle_any: Any, aws: Any) -> None:
    event = set_identity(route_event("http_api", "iam_get"), "iam")
    event["rawQueryString"] = urlencode({"action": "cancel_subscription", "subscription_id": value})

    response = invoke(event)

    assert_error(response, 400, "invalid_field", fields=True)
    assert paddle_any.requests == []


@pytest.mark.parametrize(
    "action",
    ["overv\u0456ew", "OVERVIEW", "overview ", "cancel_subscription\x00", "cancel%5Fsubscription"],
    ids=["cyrillic-i", "upper-case", "trailing-space", "nul", "double-encoded"],
)
def test_lookalike_action_is_400(action: str, invoke: Any, paddle_any: Any, aws: Any) -> None:
    event = set_identity(route_event("http_api", "iam_get"), "iam")
    event["rawQueryString"] = urlencode({"action": action, "subscription_id": SUBSCRIPTION_ID})

    response = invoke(event)

    assert_error(response, 400, "invalid_field", fields=True)
    assert paddle_any.requests == []


# --- Headers in any case ---


@pytest.mark.parametrize(
    ("fmt", "headers", "expected"),
    [
        ("http_api", {"accept": "APPLICATION/JSON"}, 200),
        ("http_api", {"accept": "text/html, Application/Json;q=0.9"}, 200),
        ("http_api", {"accept": "application/json;q=0"}, 302),
        ("http_api", {"accept": "application/jsonp"}, 302),
        ("http_api", {}, 302),
        ("rest_api", {"ACCEPT": "application/json"}, 200),
        ("rest_api", {"aCcEpT": "application/json"}, 200),
        ("rest_api", {"Accept": "text/html"}, 302),
        ("function_url", {"accept": "application/json"}, 200),
    ],
    ids=[
        "upper-value",
        "list-mixed-case",
        "q-zero",
        "jsonp",
        "no-accept",
        "rest-upper-name",
        "rest-mixed-name",
        "rest-html",
        "function-url",
    ],
)
def test_accept_header_is_read_case_insensitively(
    fmt: str, headers: dict[str, str], expected: int, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    event = set_identity(route_event(fmt, "iam_get"), "iam")
    base = {name: value for name, value in (event.get("headers") or {}).items() if name.lower() != "accept"}
    event["headers"] = {**base, **headers}
    event["multiValueHeaders"] = None
    if fmt == "rest_api":
        event["multiValueQueryStringParameters"] = event["queryStringParameters"] = None

    response = invoke(event)

    assert response["statusCode"] == expected, response["body"]
    assert_well_formed(response)


# --- Repeated query parameters ---


@pytest.mark.parametrize(
    "query",
    [
        "action=overview&action=cancel_subscription",
        f"action=cancel_subscription&subscription_id={SUBSCRIPTION_ID}&subscription_id=sub_01h8bx8fmywym11t6swgzba704",
        f"subscription_id={SUBSCRIPTION_ID}&subscription_id={SUBSCRIPTION_ID}",
        "action=overview&ACTION=cancel_subscription",
        "action",
        "=overview",
    ],
    ids=[
        "action-twice",
        "subscription-twice",
        "same-value-twice",
        "case-variant",
        "name-without-value",
        "value-without-name",
    ],
)
def test_repeated_or_odd_query_parameters_are_400(query: str, invoke: Any, paddle_any: Any, aws: Any) -> None:
    event = set_identity(route_event("http_api", "iam_get"), "iam")
    event["rawQueryString"] = query

    response = invoke(event)

    assert_error(response, 400, "invalid_field", fields=True)
    assert paddle_any.requests == []


def test_repeated_query_parameters_are_400_on_rest_too(invoke: Any, paddle_any: Any, aws: Any) -> None:
    event = set_identity(route_event("rest_api", "iam_get"), "iam")
    event["multiValueQueryStringParameters"] = {"action": ["overview", "cancel_subscription"]}
    event["queryStringParameters"] = {"action": "cancel_subscription"}

    response = invoke(event)

    assert_error(response, 400, "invalid_field", fields=True)
    assert paddle_any.requests == []


def test_http_api_reads_the_raw_query_not_its_comma_joined_copy(invoke: Any, paddle_any: Any, aws: Any) -> None:
    # API Gateway joins repeated values with commas in queryStringParameters; only rawQueryString tells them apart
    event = set_identity(route_event("http_api", "iam_get"), "iam")
    event["rawQueryString"] = "action=overview&action=overview"
    event["queryStringParameters"] = {"action": "overview,overview"}

    response = invoke(event)

    assert_error(response, 400, "invalid_field", fields=True)


# --- CR/LF: nothing a caller sends can add or split a response header ---

CRLF = {
    "query-subscription": ("query", "subscription_id", SUBSCRIPTION_ID + "\r\nLocation: https://evil.test/"),
    "query-action": ("query", "action", "overview\r\nSet-Cookie: a=b"),
    "path-customer": ("path", "customer_id", CUSTOMER_ID + "\r\nLocation: https://evil.test/"),
    "header-accept": ("header", "accept", "application/json\r\nLocation: https://evil.test/"),
    "header-other": ("header", "x-forwarded-host", "evil.test\r\nLocation: https://evil.test/"),
}


@pytest.mark.parametrize(("where", "name", "value"), list(CRLF.values()), ids=list(CRLF))
def test_crlf_in_request_values_never_reaches_a_response_header(
    where: str, name: str, value: str, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    event = set_identity(route_event("http_api", "iam_get"), "iam")
    if where == "query":
        event["rawQueryString"] = urlencode(
            {name: value} | ({"action": "cancel_subscription"} if name != "action" else {})
        )
    elif where == "path":
        event["pathParameters"] = {name: value}
        event["rawPath"] = f"/customers/{quote(value)}/portal"
    else:
        event["headers"][name] = value

    response = invoke(event)

    assert_well_formed(response)
    assert "evil.test" not in json.dumps(response["headers"])
    if where != "header":
        assert response["statusCode"] == 400


@pytest.mark.parametrize(
    "overview",
    [
        "https://customer-portal.paddle.com/cpl_01\r\nSet-Cookie: session=stolen",
        "https://customer-portal.paddle.com/cpl_01\nLocation: https://evil.test/",
        "https://customer-portal.paddle.com/cpl_01\x00",
        "https://customer-portal.paddle.com/cpl_01 https://evil.test/",
    ],
    ids=["crlf", "lf", "nul", "space"],
)
def test_paddle_link_with_control_characters_is_502_not_a_split_header(
    overview: str, invoke: Any, paddle: Any, aws: Any
) -> None:
    from tests.support import portal_session

    session = portal_session()
    session["data"]["urls"]["general"]["overview"] = overview
    paddle.answers(201, session)

    response = invoke(set_identity(route_event("http_api", "iam_get"), "iam"))

    assert_error(response, 502, "bad_gateway")
    assert_well_formed(response)


# --- Property-based: generated events and payloads ---

# The suite's fixtures (moto, the Paddle stand-in, the handler) are set up once per test function and deliberately
# shared by all of its examples: every example is one more warm invocation of the same execution environment, and
# per-example state (the stand-in's request log, the Secrets Manager counter) is reset inside the test body.
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a red build is reproducible, not a coin toss
)

LOOKALIKES = [
    CUSTOMER_ID.replace("c", "\u0441", 1),
    CUSTOMER_ID[:-1] + "\uff4e",
    CUSTOMER_ID.upper(),
    "",
    "cus_123",
    CUSTOMER_ID + "\n",
    f"{CUSTOMER_ID}/../{OTHER_CUSTOMER_ID}",
    "%2e%2e",
]
customer_ids = (
    st.sampled_from([CUSTOMER_ID, OTHER_CUSTOMER_ID, *LOOKALIKES])
    | st.from_regex(r"\Actm_[a-z0-9]{26}\Z")
    | st.text(max_size=40)
)
subscription_ids = (
    st.sampled_from([SUBSCRIPTION_ID, *LOOKALIKE_SUBSCRIPTIONS.values()])
    | st.from_regex(r"\Asub_[a-z0-9]{26}\Z")
    | st.text(max_size=40)
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=15,
)
documents = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "subscription_ids": st.lists(subscription_ids, max_size=30) | json_values,
            "customer_id": customer_ids,
            "extra": json_values,
        },
    ),
)
text_bodies = st.one_of(
    st.none(), st.just(""), st.text(max_size=300), documents.map(json.dumps), st.binary(max_size=200).map(_b64)
)
header_names = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=20)
header_values = st.text(max_size=60)
query_names = st.sampled_from(["action", "subscription_id", "customer_id", CLAIM, "Action"]) | st.text(max_size=12)
query_values = (
    st.sampled_from(["overview", "cancel_subscription", "update_subscription_payment_method"])
    | subscription_ids
    | customer_ids
)
query_pairs = st.lists(st.tuples(query_names, query_values), max_size=4)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
claim_values = customer_ids | st.none() | st.integers() | st.lists(customer_ids, max_size=2)
identities = st.one_of(
    st.sampled_from([("none", None), ("iam", None), ("lambda_authorizer", None)]),
    claim_values.map(lambda value: ("jwt", claims_with(value))),
    st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4).map(lambda claims: ("jwt", claims)),
)
TEMPLATES = {
    "iam_post": ("POST", "/customers/{customer_id}/portal-sessions"),
    "iam_get": ("GET", "/customers/{customer_id}/portal"),
    "jwt_post": ("POST", "/portal-sessions"),
    "jwt_get": ("GET", "/portal"),
    "link_mint": ("POST", "/customers/{customer_id}/portal-links"),
    "jwt_mint": ("POST", "/portal-links"),
    "link_follow": ("GET", "/links/portal"),
}


valid_customer_ids = st.sampled_from([CUSTOMER_ID, OTHER_CUSTOMER_ID]) | st.from_regex(r"\Actm_[a-z0-9]{26}\Z")
valid_query_pairs = st.sampled_from(
    [
        [],
        [("action", "overview")],
        [("action", "cancel_subscription"), ("subscription_id", SUBSCRIPTION_ID)],
        [("subscription_id", SUBSCRIPTION_ID), ("action", "update_subscription_payment_method")],
        [("subscription_id", SUBSCRIPTION_ID)],
    ]
)
valid_bodies = st.sampled_from(
    [
        None,
        "",
        "{}",
        json.dumps({"subscription_ids": [SUBSCRIPTION_ID]}),
        json.dumps({"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID, "expires_in": 600}),
    ]
) | st.lists(st.from_regex(r"\Asub_[a-z0-9]{26}\Z"), max_size=25, unique=True).map(
    lambda ids: json.dumps({"subscription_ids": ids})
)


def _usually(draw: st.DrawFn, plausible: st.SearchStrategy[Any], anything: st.SearchStrategy[Any]) -> Any:
    """Mostly a value a well-behaved client would send, sometimes anything: so that generated requests get past
    routing and authorization often enough to exercise what lies behind them."""
    return draw(plausible) if draw(st.integers(min_value=0, max_value=4)) else draw(anything)


@st.composite
def client_events(draw: st.DrawFn) -> dict[str, Any]:
    """A real event of any format, route and identity, with everything a client controls redrawn: method, path,
    query, headers, body (text or base64). API Gateway's own fields stay well-formed."""
    fmt = draw(st.sampled_from(FORMATS))
    route = draw(st.sampled_from(ROUTES))
    own_identity = (
        st.just(("iam", None))
        if ROUTE_AUTH[route] == "iam"
        else valid_customer_ids.map(lambda value: ("jwt", claims_with(value)))
    )
    kind, claims = _usually(draw, own_identity, identities)
    if kind == "jwt" and fmt == "rest_api" and claims:
        claims = {**REST_COGNITO_CLAIMS, **claims} if draw(st.booleans()) else claims
    event = set_identity(route_event(fmt, route), kind, claims)

    method, template = _usually(
        draw, st.just(TEMPLATES[route]), st.tuples(methods, st.sampled_from(["/{proxy+}", TEMPLATES[route][1]]))
    )
    customer = _usually(draw, valid_customer_ids, customer_ids)
    path = template.replace("{customer_id}", quote(customer, safe="")).replace("{proxy+}", draw(st.text(max_size=30)))
    path_parameters = {"customer_id": customer} if "{customer_id}" in template else None
    genuine_link = st.builds(lambda: parse_qsl(signed_query()))
    pairs = _usually(draw, genuine_link if route == "link_follow" else valid_query_pairs, query_pairs)
    raw_query = draw(st.just(urlencode(pairs)) | st.text(max_size=60))
    extra_headers = draw(st.dictionaries(header_names, header_values, max_size=4))
    body = _usually(draw, valid_bodies, text_bodies)
    encoded = body is not None and draw(st.booleans())
    if encoded and body is not None:
        body = _b64(body.encode("utf-8", "surrogatepass"))

    if fmt == "rest_api":
        event.update(httpMethod=method, resource=template, path=path, pathParameters=path_parameters)
        event["requestContext"].update(httpMethod=method, resourcePath=template)
        multi: dict[str, list[str]] = {}
        for name, value in pairs:
            multi.setdefault(name, []).append(value)
        event["multiValueQueryStringParameters"] = multi or None
        event["queryStringParameters"] = {name: values[-1] for name, values in multi.items()} or None
        headers = {**(event["headers"] or {}), **{name.title(): value for name, value in extra_headers.items()}}
        event["headers"] = headers
        event["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
    else:
        route_key = "$default" if fmt == "function_url" else f"{method} {template}"
        event.update(routeKey=route_key, rawPath=path, rawQueryString=raw_query, pathParameters=path_parameters)
        event["requestContext"].update(routeKey=route_key)
        event["requestContext"]["http"].update(method=method, path=path)
        event["headers"] = {**event["headers"], **{name.lower(): value for name, value in extra_headers.items()}}
    event["body"] = body
    event["isBase64Encoded"] = encoded
    return event


@FUZZ
@given(event=client_events())
def test_generated_client_requests_always_get_an_answer_and_never_a_5xx(
    event: dict[str, Any], invoke: Any, paddle_any: Any, aws: Any
) -> None:
    paddle_any.server.clear_log()

    response = invoke(copy.deepcopy(event))

    hypothesis_event(f"status {response['statusCode']}")
    assert_well_formed(response)
    assert response["statusCode"] < 500, response["body"]
    called = customers_called(paddle_any)
    if response["statusCode"] >= 400:
        assert called == [], "refused after calling Paddle"
    elif "url" in json.loads(response["body"] or "{}").get("data", {}):
        assert called == [], "minting a signed link calls nobody"
    else:
        (customer,) = called
        assert re.fullmatch(r"ctm_[a-z0-9]{26}", customer)


@st.composite
def malformed_events(draw: st.DrawFn) -> dict[str, Any]:
    """A real event with parts of its structure removed or replaced by arbitrary JSON: shapes no gateway sends,
    which must still get an answer rather than an exception. (An object-valued `requestContext` is what marks an
    API event, so it stays an object, if only of garbage: anything else is a direct invocation, tested below.)"""
    event = copy.deepcopy(draw(st.sampled_from([route_event(fmt, route) for fmt in FORMATS for route in ROUTES])))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        context = event["requestContext"]
        target = draw(st.sampled_from([event, context])) if isinstance(context, dict) and context else event
        key = draw(st.sampled_from(sorted(target)))
        if key == "requestContext":
            target[key] = draw(st.dictionaries(st.text(max_size=10), json_values, max_size=4))
        elif draw(st.booleans()):
            del target[key]
        else:
            target[key] = draw(json_values)
    return event


@FUZZ
@given(event=malformed_events())
def test_malformed_gateway_events_always_get_an_answer(
    event: dict[str, Any], invoke: Any, paddle_any: Any, aws: Any
) -> None:
    response = invoke(copy.deepcopy(event))

    hypothesis_event(f"status {response['statusCode']}")
    assert_well_formed(response)


direct_payloads = st.one_of(
    json_values.filter(lambda value: not (isinstance(value, dict) and "requestContext" in value)),
    st.fixed_dictionaries(
        {"customer_id": customer_ids},
        optional={
            "subscription_ids": st.lists(subscription_ids, max_size=30) | json_values,
            "correlation_id": st.text(max_size=140) | json_values,
            "extra": json_values,
        },
    ),
)


@FUZZ
@given(payload=direct_payloads)
def test_generated_direct_payloads_return_a_session_or_raise_invalid_request(
    payload: Any, invoke: Any, paddle_any: Any, aws: Any
) -> None:
    paddle_any.server.clear_log()

    try:
        result = invoke(copy.deepcopy(payload))
    except PortalError as error:
        raised: PortalError | None = error
    else:
        raised = None

    hypothesis_event("raised" if raised is not None else "returned")
    if raised is not None:
        # A bad payload is the invoker's mistake: the one documented class, and Paddle never asked
        assert type(raised) is InvalidRequestError, repr(raised)
        assert paddle_any.requests == []
    else:
        assert set(result) == {"data", "meta"}
        assert customers_called(paddle_any) == [payload["customer_id"]]
