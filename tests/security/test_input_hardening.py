"""Hostile input through the real handler: oversized, unreadable or huge bodies, look-alike ids, repeated query
parameters, CR/LF anywhere; then Hypothesis-generated events and payloads. The rules these inputs break are tables in
tests/unit/test_inputs.py; here: the handler always answers, a client's mistake is never a 5xx, every refusal comes
before Paddle is called or a secret read, no answer grows with the input, and no header carries CR or LF."""

from __future__ import annotations

import base64
import copy
import json
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paddle_portal.errors import InvalidRequestError, PortalError
from paddle_portal.paddle.session import is_allowed_link
from paddle_portal.settings import DEFAULT_PORTAL_HOSTS
from tests.events import (
    CLAIM,
    FORMATS,
    ROUTE_AUTH,
    ROUTES,
    TEMPLATES,
    claims_with,
    route_event,
    signed_query,
    with_query,
)
from tests.integration.checks import assert_error, assert_refused
from tests.security.cases import customers_called
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, OTHER_SUBSCRIPTION_ID, SUBSCRIPTION_ID

KiB16 = 16 * 1024


def assert_well_formed(response: Any) -> None:
    """What API Gateway needs to pass an answer on: never an exception, never a header it would choke on."""
    assert isinstance(response["statusCode"], int)
    assert isinstance(response["body"], str)
    assert response["headers"]["Cache-Control"] == "no-store"
    for name, value in response["headers"].items():
        assert not {"\r", "\n"} & set(value), (name, value)
    assert response["statusCode"] != 302 or is_allowed_link(response["headers"]["Location"], DEFAULT_PORTAL_HOSTS)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    "body",
    [
        b"\0" * (4 * 1024 * 1024),  # sent base64-encoded: refused by its length, before it is decoded
        '{"subscription_ids": []}' + " " * (6 * 1024 * 1024),
        json.dumps({"x": "\u00e9" * 9000}, ensure_ascii=False),  # fewer than 16 Ki characters, more bytes
    ],
    ids=["base64-4-mib", "text-6-mib", "multibyte-over-in-bytes"],
)
def test_body_over_16_kib_is_413(body, invoke, paddle_any, aws):
    assert_refused(
        invoke(route_event("http_api", "iam_post", "iam", body=body)), 413, "request_too_large", paddle_any, aws
    )


UNREADABLE = {  # bytes: sent base64-encoded
    "overlong-utf8": b'{"subscription_ids": ["\xc0\xaf"]}',
    "nested-arrays-5000": "[" * 5000 + "]" * 5000,
    "nested-in-field-3000": '{"subscription_ids": ' + "[" * 3000 + "]" * 3000 + "}",
    "nan": '{"subscription_ids": [], "subscription_ids": NaN}',
    "400-duplicates": json.dumps({"subscription_ids": [SUBSCRIPTION_ID] * 400}),
    "2500-integers": json.dumps({"subscription_ids": list(range(2500))}),
    "5000-character-name": json.dumps({"x" * 5000: 1}),
    "1200-fields": json.dumps({f"k{i}": i for i in range(1200)}),
    "lookalike-subscription": json.dumps({"subscription_ids": [SUBSCRIPTION_ID.replace("s", "\u0455", 1)]}),
}


@pytest.mark.parametrize("body", list(UNREADABLE.values()), ids=list(UNREADABLE))
def test_unreadable_body_is_400_before_paddle(body, invoke, paddle_any, aws):
    response = invoke(route_event("http_api", "iam_post", "iam", body=body))

    code = json.loads(response["body"])["error"]["code"]
    assert code in {"invalid_json", "invalid_field"}
    error = assert_error(response, 400, code)
    assert_well_formed(response)
    # The answer stays bounded whatever was sent: field names cut at 100 characters, values never echoed
    assert len(response["body"]) <= 8 * KiB16
    assert all(len(item["field"]) <= 100 for item in error.get("errors", ()))
    assert "x" * 101 not in response["body"]
    assert paddle_any.requests == []
    assert aws.get_secret_value == 0


ODD_QUERIES = {
    "action-twice": "action=overview&action=cancel_subscription",
    "subscription-twice": f"subscription_id={SUBSCRIPTION_ID}&subscription_id={OTHER_SUBSCRIPTION_ID}",
    "same-value-twice": f"subscription_id={SUBSCRIPTION_ID}&subscription_id={SUBSCRIPTION_ID}",
    "case-variant": "action=overview&ACTION=cancel_subscription",
    "name-without-value": "action",
    "value-without-name": "=overview",
    "lookalike-subscription": urlencode(
        {"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID[:-1] + "\uff14"}
    ),
    "lookalike-action": urlencode({"action": "overv\u0456ew"}),
    "double-encoded-action": "action=cancel%255Fsubscription&subscription_id=" + SUBSCRIPTION_ID,
}


@pytest.mark.parametrize("fmt", ["http_api", "rest_api"])
@pytest.mark.parametrize("query", list(ODD_QUERIES.values()), ids=list(ODD_QUERIES))
def test_repeated_or_odd_query_parameters_are_400(query, fmt, invoke, paddle_any, aws):
    # (HTTP API events also carry the last value of each parameter alone, in queryStringParameters: only
    # rawQueryString shows the repeats)
    assert_refused(invoke(route_event(fmt, "iam_get", "iam", query=query)), 400, "invalid_field", paddle_any, aws)


CRLF = {
    "query-subscription": ("query", "subscription_id", SUBSCRIPTION_ID + "\r\nLocation: https://evil.test/"),
    "query-action": ("query", "action", "overview\r\nSet-Cookie: a=b"),
    "path-customer": ("path", "customer_id", CUSTOMER_ID + "\r\nLocation: https://evil.test/"),
    "header-accept": ("header", "accept", "application/json\r\nLocation: https://evil.test/"),
    "header-other": ("header", "x-forwarded-host", "evil.test\r\nLocation: https://evil.test/"),
}


@pytest.mark.parametrize(("where", "name", "value"), list(CRLF.values()), ids=list(CRLF))
def test_crlf_in_request_values_never_reaches_a_response_header(where, name, value, invoke, paddle_any, aws):
    event = route_event("http_api", "iam_get", "iam")
    if where == "query":
        with_query(event, urlencode({"action": "cancel_subscription", name: value}))
    elif where == "path":
        event["pathParameters"] = {name: value}
        event["rawPath"] = f"/customers/{quote(value)}/portal"
    else:
        event["headers"][name] = value

    response = invoke(event)

    assert_well_formed(response)
    assert "evil.test" not in json.dumps(response["headers"])
    assert where == "header" or response["statusCode"] == 400


# --- Property-based: generated events and payloads. The fixtures are set up once per test and shared by its
# examples: each example is one more warm invocation of the same execution environment. ---

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a red build is reproducible, not a coin toss
)
LOOKALIKES = [CUSTOMER_ID.replace("c", "\u0441", 1), CUSTOMER_ID.upper(), "", "cus_123", CUSTOMER_ID + "\n", "%2e%2e"]
SUB_IDS, S = st.from_regex(r"\Asub_[a-z0-9]{26}\Z"), "subscription_ids"
valid_customers = st.sampled_from([CUSTOMER_ID, OTHER_CUSTOMER_ID]) | st.from_regex(r"\Actm_[a-z0-9]{26}\Z")
customers = valid_customers | st.sampled_from(LOOKALIKES) | st.text(max_size=40)
subscriptions = st.sampled_from([SUBSCRIPTION_ID, SUBSCRIPTION_ID.upper(), SUBSCRIPTION_ID + "\u0301"]) | SUB_IDS
subscriptions |= st.text(max_size=40)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=15,
)
documents = st.fixed_dictionaries(
    {}, optional={S: st.lists(subscriptions, max_size=30) | json_values, "customer_id": customers, "extra": json_values}
)
bodies = st.none() | st.text(max_size=300) | st.binary(max_size=200).map(b64) | documents.map(json.dumps)
valid_bodies = st.sampled_from(
    [None, "{}", json.dumps({"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID})]
)
valid_bodies |= st.lists(SUB_IDS, max_size=25, unique=True).map(lambda ids: json.dumps({S: ids}))
ACTIONS = ["overview", "cancel_subscription", "update_subscription_payment_method"]
query_names = st.sampled_from(["action", "subscription_id", "customer_id", CLAIM]) | st.text(max_size=12)
queries = st.lists(st.tuples(query_names, st.sampled_from(ACTIONS) | subscriptions | customers), max_size=4)
valid_queries = st.sampled_from(
    [[], [("action", "overview")], [("action", "cancel_subscription"), ("subscription_id", SUBSCRIPTION_ID)]]
)
claim_values = customers | st.none() | st.integers() | st.lists(customers, max_size=2)
identities = st.sampled_from([("none", None), ("iam", None), ("lambda_authorizer", None)]) | claim_values.map(
    lambda value: ("jwt", claims_with(value))
)
header_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20)


def _usually(draw: st.DrawFn, plausible: st.SearchStrategy[Any], anything: st.SearchStrategy[Any]) -> Any:
    """Mostly what a well-behaved client would send, sometimes anything: generated requests get past routing and
    authorization often enough to exercise what lies behind them."""
    return draw(plausible) if draw(st.integers(min_value=0, max_value=4)) else draw(anything)


@st.composite
def client_events(draw: st.DrawFn) -> dict[str, Any]:
    """A real event of any format, route and identity, with everything a client controls redrawn: method, path,
    query, headers, body (text or base64). API Gateway's own fields stay well-formed."""
    fmt, route = draw(st.sampled_from(FORMATS)), draw(st.sampled_from(ROUTES))
    own = (
        st.just(("iam", None)) if ROUTE_AUTH[route] == "iam" else valid_customers.map(lambda c: ("jwt", claims_with(c)))
    )
    event = route_event(fmt, route, *_usually(draw, own, identities))
    method, template, _ = TEMPLATES[route]
    method, template = _usually(
        draw,
        st.just((method, template)),
        st.tuples(st.sampled_from(["GET", "POST", "PUT", "DELETE"]), st.sampled_from(["/{proxy+}", template])),
    )
    customer = _usually(draw, valid_customers, customers)
    path = template.replace("{customer_id}", quote(customer, safe="")).replace("{proxy+}", draw(st.text(max_size=30)))
    params = {"customer_id": customer} if "{customer_id}" in template else None
    pairs = _usually(draw, st.just(parse_qsl(signed_query())) if route == "link_follow" else valid_queries, queries)
    headers = draw(st.dictionaries(header_names, st.text(max_size=60), max_size=4))
    body = _usually(draw, valid_bodies, bodies)
    encoded = body is not None and draw(st.booleans())
    with_query(event, urlencode(pairs))
    if fmt == "rest_api":
        event.update(httpMethod=method, resource=template, path=path, pathParameters=params)
        event["headers"] = {**event["headers"], **{name.title(): value for name, value in headers.items()}}
        event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
    else:
        route_key = "$default" if fmt == "function_url" else f"{method} {template}"
        event.update(routeKey=route_key, rawPath=path, pathParameters=params)
        event["rawQueryString"] = draw(st.just(event["rawQueryString"]) | st.text(max_size=60))
        event["requestContext"].update(routeKey=route_key)
        event["requestContext"]["http"].update(method=method, path=path)
        event["headers"] = {**event["headers"], **headers}
    event["body"] = b64(body.encode("utf-8", "surrogatepass")) if encoded else body
    event["isBase64Encoded"] = encoded
    return event


@FUZZ
@given(event=client_events())
def test_generated_client_requests_always_get_an_answer_and_never_a_5xx(event, invoke, paddle_any, aws):
    paddle_any.server.clear_log()

    response = invoke(copy.deepcopy(event))

    assert_well_formed(response)
    assert response["statusCode"] < 500, response["body"]
    called = customers_called(paddle_any)
    if response["statusCode"] >= 400 or "url" in json.loads(response["body"] or "{}").get("data", {}):
        assert called == [], "refused, or a signed link minted, after calling Paddle"
    else:
        (customer,) = called
        assert re.fullmatch(r"ctm_[a-z0-9]{26}", customer)


@st.composite
def malformed_events(draw: st.DrawFn) -> dict[str, Any]:
    """A real event with parts of its structure removed or replaced by arbitrary JSON: shapes no gateway sends. (An
    object-valued `requestContext` marks an API event, so it stays an object, if only of garbage.)"""
    event = route_event(draw(st.sampled_from(FORMATS)), draw(st.sampled_from(ROUTES)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        context = event["requestContext"]
        target = draw(st.sampled_from([event, context])) if context else event
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
def test_malformed_gateway_events_always_get_an_answer(event, invoke, paddle_any, aws):
    assert_well_formed(invoke(copy.deepcopy(event)))


payload_fields = {
    S: st.lists(subscriptions, max_size=30) | json_values,
    "correlation_id": st.text(max_size=140) | json_values,
}
direct_payloads = json_values.filter(lambda value: not (isinstance(value, dict) and "requestContext" in value)) | (
    st.fixed_dictionaries({"customer_id": customers}, optional=payload_fields | {"extra": json_values})
)


@FUZZ
@given(payload=direct_payloads)
def test_generated_direct_payloads_return_a_session_or_raise_invalid_request(payload, invoke, paddle_any, aws):
    paddle_any.server.clear_log()

    try:
        result, raised = invoke(copy.deepcopy(payload)), None
    except PortalError as error:
        result, raised = None, error

    if raised is None:
        assert set(result) == {"data", "meta"}
        assert customers_called(paddle_any) == [payload["customer_id"]]
    else:  # a bad payload is the invoker's mistake: the one documented class, and Paddle never asked
        assert type(raised) is InvalidRequestError, repr(raised)
        assert paddle_any.requests == []
