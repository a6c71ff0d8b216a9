"""Our own OpenAPI document (`openapi/paddle-portal.openapi.yaml`) says what the service does: it is valid OpenAPI 3.1;
its routes are exactly the function's route table (tests/infrastructure holds `template.yaml` to it), with the same
auth; its parameters and bodies carry the function's rules; and what the real handler answers, in every response the
document declares, matches it."""

from __future__ import annotations

import json
import re
import time
from typing import Any, get_args
from urllib.parse import urlencode

import pytest
from jsonschema import Draft202012Validator
from schemathesis.specs.openapi.definitions import OPENAPI_31

from paddle_portal.app import lambda_handler
from paddle_portal.http_api.bodies import BrowserLinkBody, CreateSessionBody, CustomerPath, MintLinkBody, PortalQuery
from paddle_portal.http_api.routes import ROUTES
from paddle_portal.paddle.ids import Action
from paddle_portal.signed_links import _FIELDS as LINK_FIELDS  # the verifier's own (private) field list and patterns
from paddle_portal.signed_links import _PATTERNS as LINK_PATTERNS
from paddle_portal.signed_links import MIN_LIFETIME_SECONDS, LinkClaims, SigningKeys, sign
from paddle_portal.validation import MAX_SUBSCRIPTION_IDS
from tests.contract.documents import ERROR as PADDLES_ERROR
from tests.contract.documents import LIST_EXAMPLE, OUR_URI, at, our_document, paddle_document, problems, validator
from tests.events import http_event, with_query
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, SUBSCRIPTION_ID, LambdaContext, PaddleStub, paddle_error

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operations(document: dict[str, Any] | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    paths = (document or our_document())["paths"]
    return {(m.upper(), path): op for path, item in paths.items() for m, op in item.items() if m in METHODS}


def resolve(node: dict[str, Any], document: dict[str, Any] | None = None) -> dict[str, Any]:
    while "$ref" in node:
        node = at(document or our_document(), node["$ref"])
    return node


def inline(node: Any, document: dict[str, Any], strip: bool = False) -> Any:
    """`$ref`s replaced by their targets (siblings merged: Paddle adds descriptions); with `strip`, without what
    does not constrain (descriptions, titles, examples, extensions, readOnly)."""
    if isinstance(node, list):
        return [inline(item, document, strip) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return inline({**at(document, node["$ref"]), **{k: v for k, v in node.items() if k != "$ref"}}, document, strip)
    ignored = ("description", "title", "examples", "readOnly")
    return {k: inline(v, document, strip) for k, v in node.items() if not strip or (k not in ignored and k[:2] != "x-")}


def parameters(operation: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in map(resolve, operation.get("parameters", [])) if p["in"] == where}


# --- the document itself, and its routes


def test_the_documents_are_valid_openapi_3_1_with_every_reference_resolved_and_used() -> None:
    assert our_document()["openapi"].startswith("3.1.")
    assert problems(Draft202012Validator(OPENAPI_31), our_document()) == []
    assert problems(Draft202012Validator(OPENAPI_31), paddle_document()) == []
    for schema in our_document()["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)  # raises SchemaError, naming the problem
    refs = set(re.findall(r"""['"]\$ref['"]: ['"]([^'"]+)""", str(our_document())))
    for ref in refs:
        at(our_document(), ref)  # KeyError: a dangling reference
    components = our_document()["components"]
    unused = {f"#/components/{s}/{n}" for s in components if s != "securitySchemes" for n in components[s]} - refs
    assert unused == set(), "components nothing refers to"


def test_the_documents_routes_are_the_functions() -> None:  # which are template.yaml's: tests/infrastructure
    scheme = {"sigv4": "iam", "jwt": "jwt"}
    documented = {(method, path, scheme[next(iter(op["security"][0]))] if op["security"][0] else "link")
                  for (method, path), op in operations().items()}  # fmt: skip
    assert documented == {(r.method, r.template, r.auth.value) for r in ROUTES}
    for (_, path), operation in operations().items():
        assert set(parameters(operation, "path")) == set(re.findall(r"\{(\w+)\}", path)), path


# --- parameters and bodies: the function's rules


def _pattern(model: Any, field: str) -> str:
    node = model.model_json_schema()["properties"][field]
    [pattern] = [option["pattern"] for option in node.get("anyOf", [node]) if "pattern" in option]
    return str(pattern)


def test_ids_and_the_query_are_the_models() -> None:
    schemas, params = our_document()["components"]["schemas"], our_document()["components"]["parameters"]

    assert schemas["CustomerId"]["pattern"] == _pattern(CustomerPath, "customer_id")
    assert schemas["SubscriptionId"]["pattern"] == _pattern(PortalQuery, "subscription_id")
    assert params["Action"]["schema"]["enum"] == schemas["PortalAction"]["enum"] == list(get_args(Action))
    assert params["Action"]["schema"]["default"] == PortalQuery.model_fields["action"].default
    assert set(PortalQuery.model_fields) == {params["Action"]["name"], params["SubscriptionIdQuery"]["name"]}


@pytest.mark.parametrize(
    ("schema", "model"),
    [("CreatePortalSessionRequest", CreateSessionBody), ("CreatePortalLinkRequest", MintLinkBody),
     ("CreateBrowserPortalLinkRequest", BrowserLinkBody)],
)  # fmt: skip
def test_request_bodies_are_the_models(schema: str, model: Any) -> None:
    body = our_document()["components"]["schemas"][schema]

    assert (set(body["properties"]), body["additionalProperties"]) == (set(model.model_fields), False)
    if model is CreateSessionBody:  # Paddle's limits, too
        ids = body["properties"]["subscription_ids"]
        paddles = paddle_document()["components"]["schemas"]["customer-portal-session-create"]["properties"]
        assert (ids["maxItems"], ids["uniqueItems"]) == (MAX_SUBSCRIPTION_IDS, True)
        assert ids["maxItems"] == paddles["subscription_ids"]["maxItems"]
        return
    lifetime, field = body["properties"]["expires_in"], model.model_fields["expires_in"]
    limits = {type(m).__name__: getattr(m, type(m).__name__.lower()) for m in field.metadata}
    assert (lifetime["minimum"], lifetime["maximum"]) == (limits["Ge"], limits["Le"])
    assert limits["Ge"] == MIN_LIFETIME_SECONDS
    assert (lifetime["default"], body["properties"]["action"]["default"]) == (field.default, model().action)


# Values to try each link parameter's schema and the verifier's pattern on: they must agree on every one.
LINK_SAMPLES = {
    "v": ["1", "2", "01", ""],
    "c": [CUSTOMER_ID, "ctm_123", CUSTOMER_ID.upper(), f"{CUSTOMER_ID}x", ""],
    "a": ["overview", "cancel_subscription", "update_subscription_payment_method", "delete", ""],
    "s": ["", SUBSCRIPTION_ID, "sub_1", f" {SUBSCRIPTION_ID}"],
    "e": ["1800000000", "1", "0", "01800000000", "9" * 12, "9" * 13, "-1", ""],
    "k": ["k1", "K_-9", "k" * 32, "k" * 33, "k 1", "k.1", ""],
    "sig": ["A" * 43, "-_" * 21 + "A", "A" * 42, "A" * 44, "+" * 43, "A" * 42 + "=", ""],
}


def test_each_route_takes_its_input_where_and_as_the_function_reads_it() -> None:
    for (method, path), operation in operations().items():
        query = parameters(operation, "query")
        if method == "POST":  # a body, optional, and no query
            assert (resolve(operation["requestBody"])["required"], query) == (False, {}), path
        elif path == "/links/portal":  # every field of a signed link, required, with the verifier's pattern
            assert ("requestBody" not in operation, list(query)) == (True, list(LINK_FIELDS))
            for name, parameter in query.items():
                check = Draft202012Validator(inline(parameter["schema"], our_document()))
                assert parameter["required"] is True, name
                for sample in LINK_SAMPLES[name]:
                    assert check.is_valid(sample) is bool(LINK_PATTERNS[name].fullmatch(sample)), (name, sample)
        else:
            assert ("requestBody" not in operation, set(query)) == (True, {"action", "subscription_id"}), path


def test_the_answers_are_declared_where_the_function_gives_them() -> None:
    # `data` is Paddle's session exactly as Paddle returned it: our schema for it must be Paddle's
    ours = inline(our_document()["components"]["schemas"]["PortalSession"], our_document(), strip=True)
    paddles = paddle_document()["components"]["schemas"]["customer-portal-session"]
    assert ours == inline(paddles, paddle_document(), strip=True)
    # Only the verified-email lookup answers 409, and it runs on the JWT routes only
    with_409 = {route for route, operation in operations().items() if "409" in operation["responses"]}
    assert with_409 == {(route.method, route.template) for route in ROUTES if route.auth.value == "jwt"}
    # A refused link is one of two codes, as JSON or the page browsers get
    refusal = resolve(operations()[("GET", "/links/portal")]["responses"]["403"])
    codes = inline(our_document()["components"]["schemas"]["LinkRefusedError"], our_document())
    assert set(refusal["content"]) == {"application/json", "text/html"}
    assert codes["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"] == ["invalid_link", "link_expired"]
    # Our envelope is Paddle's minus `documentation_url`: a Paddle field error fits ours unchanged
    error = paddle_error("invalid_field", errors=[{"field": "subscription_ids[0]", "message": "bad"}])
    assert problems(PADDLES_ERROR, error) == []
    del error["error"]["documentation_url"]
    assert problems(validator(OUR_URI, "/components/schemas/Error"), error) == []


# --- what the handler answers is what the document declares


def check_response(method: str, path: str, response: dict[str, Any]) -> list[str]:
    """Problems of a handler response against the document: status declared, required headers present and valid,
    body valid against the declared schema of its content type (or absent when none is declared)."""
    declared = operations()[(method, path)]["responses"].get(str(response["statusCode"]))
    if declared is None:
        return [f"status {response['statusCode']} is not declared for {method} {path}"]
    found, headers = [], {name.lower(): value for name, value in (response.get("headers") or {}).items()}
    for name, header in ((name, resolve(h)) for name, h in (resolve(declared).get("headers") or {}).items()):
        if (value := headers.get(name.lower())) is None:
            found += [f"required header {name} is missing"] if header.get("required") else []
        else:
            typed = int(value) if header["schema"].get("type") == "integer" else value
            found += [f"header {name}: {p}" for p in problems(Draft202012Validator(header["schema"]), typed)]
    content = resolve(declared).get("content")
    if content is None:
        return found + (["a body was sent where none is declared"] if response.get("body") else [])
    media_type = headers.get("content-type", "").partition(";")[0].strip()
    if media_type not in content:
        return [*found, f"content type {media_type!r} is not one of {sorted(content)}"]
    schema = declared["$ref"].removeprefix("#") + f"/content/{media_type.replace('/', '~1')}/schema"
    body = json.loads(response["body"]) if media_type == "application/json" else response["body"]
    return found + problems(validator(OUR_URI, schema), body)


LINK_SECRET_ID = "paddle-portal/link-signing-keys"
LINK_KEYS = {"active": "k1", "k1": "FAKE0link0signing0key0for0the0contract0tests0000000000000000"}
EMAIL = http_event("http_api/get_portal_jwt.json")["requestContext"]["authorizer"]["jwt"]["claims"]["email"]


def link(
    action: str = "overview", subscription_id: str | None = None, expires_in: int = 3600, customer: str = ""
) -> Any:
    """The query of a link signed with the scenario keys (made when the scenario runs), its customer then changed."""
    claims = LinkClaims(CUSTOMER_ID, action, subscription_id, int(time.time()) + expires_in)  # type: ignore[arg-type]
    signed = lambda: sign(claims, SigningKeys.parse(json.dumps(LINK_KEYS)))  # noqa: E731
    return lambda: signed().replace(f"c={CUSTOMER_ID}", f"c={customer or CUSTOMER_ID}")


TWO_CUSTOMERS = (CUSTOMER_ID, OTHER_CUSTOMER_ID)
PADDLE_DOES = {  # Paddle's answer to the session call; or to the verified-email lookup: two customers with the email
    None: lambda paddle: None,
    "session": lambda paddle: paddle.creates_session(),
    "session-one": lambda paddle: paddle.creates_session(subscription_ids=(SUBSCRIPTION_ID,)),
    "foreign-host": lambda paddle: paddle.creates_session(host="https://portal.example.com"),
    "not-found": lambda paddle: paddle.answers(404, paddle_error("not_found")),
    "rate-limited": lambda paddle: paddle.answers(
        429, paddle_error("too_many_requests"), headers={"Retry-After": "30"}
    ),
    "key-rejected": lambda paddle: paddle.answers(403, paddle_error("invalid_token")),
    "two-customers": lambda paddle: paddle.server.expect_request("/customers", method="GET").respond_with_json(
        {**LIST_EXAMPLE, "data": [{**LIST_EXAMPLE["data"][0], "id": i, "email": EMAIL} for i in TWO_CUSTOMERS]}
    ),
}
IAM_POST, IAM_GET = "http_api/post_portal_sessions_iam.json", "http_api/get_portal_iam.json"
JWT_POST, JWT_GET = "http_api/post_portal_sessions_jwt.json", "http_api/get_portal_jwt.json"
FOLLOW = "http_api/get_links_portal.json"
PAGE, JSON = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json"
ONE_ID = json.dumps({"subscription_ids": [SUBSCRIPTION_ID]})
DEEP = {"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID}

SCENARIOS = [
    # (id, event file, {body, accept, query, env, remaining_ms}, what Paddle does, status, error code)
    ("created-iam", IAM_POST, {"body": ONE_ID}, "session", 201, None),
    ("redirect-iam", IAM_GET, {"accept": PAGE, "query": ""}, "session", 302, None),
    ("json-iam", IAM_GET, {"accept": JSON, "query": ""}, "session", 200, None),
    ("created-jwt", JWT_POST, {"body": "{}"}, "session", 201, None),
    ("redirect-jwt-deep-link", JWT_GET, {"accept": PAGE, "query": urlencode(DEEP)}, "session-one", 302, None),
    ("link-minted", "http_api/post_portal_links_iam.json", {"body": json.dumps(DEEP)}, None, 201, None),
    ("browser-link-minted", "http_api/post_portal_links_jwt.json", {"body": "{}"}, None, 201, None),
    ("link-followed", FOLLOW, {"accept": PAGE, "query": link(*DEEP.values())}, "session-one", 302, None),
    ("not-json", IAM_POST, {"body": "{not json"}, None, 400, "invalid_json"),
    ("no-identity", "http_api/post_portal_sessions_no_identity.json", {}, None, 401, "authentication_missing"),
    ("jwt-without-claim", "http_api/get_portal_jwt_missing_claim.json", {}, None, 403, "forbidden"),
    ("paddle-not-found", IAM_POST, {"body": ONE_ID}, "not-found", 404, "not_found"),
    ("lookup-ambiguous", JWT_GET, {"accept": JSON, "query": "", "env": {"CUSTOMER_LOOKUP": "verified_email"}},
     "two-customers", 409, "ambiguous_customer"),
    ("too-large", IAM_POST, {"body": json.dumps({"subscription_ids": ["x" * 17_000]})}, None, 413, "request_too_large"),
    ("paddle-rate-limited", JWT_POST, {"body": "{}"}, "rate-limited", 429, "too_many_requests"),
    ("key-rejected", IAM_POST, {"body": "{}"}, "key-rejected", 500, "configuration_error"),
    ("link-on-foreign-host", IAM_GET, {"accept": PAGE, "query": ""}, "foreign-host", 502, "bad_gateway"),
    ("deadline", IAM_POST, {"body": "{}", "remaining_ms": 1_000}, None, 504, "gateway_timeout"),
    ("link-expired", FOLLOW, {"accept": JSON, "query": link(expires_in=-60)}, None, 403, "link_expired"),
] + [  # the signed-link route's failures, as JSON for programs and as the page browsers get
    (f"link-{name}-{view}", FOLLOW, {"accept": accept, "query": link(customer=customer), **more}, paddle, status, code)
    for name, customer, more, paddle, status, code in [
        ("tampered", OTHER_CUSTOMER_ID, {}, None, 403, "invalid_link"),
        ("customer-gone", "", {}, "not-found", 404, "not_found"),
        ("rate-limited", "", {}, "rate-limited", 429, "too_many_requests"),
        ("key-rejected", "", {}, "key-rejected", 500, "configuration_error"),
        ("foreign-host", "", {}, "foreign-host", 502, "bad_gateway"),
        ("deadline", "", {"remaining_ms": 1_000}, None, 504, "gateway_timeout"),
    ]
    for view, accept in (("json", JSON), ("page", PAGE))
]  # fmt: skip


def answer_of(file: str, options: dict[str, Any], status: int) -> tuple[str, str, str, str]:
    """(method, path, the response the document declares for that status, the content type it must come in): the page
    for a browser on the signed-link route, no body for a redirect, JSON otherwise."""
    method, path = http_event(file)["routeKey"].split(" ")
    page = path == "/links/portal" and options.get("accept") == PAGE and status >= 400
    media = "text/html" if page else "" if status == 302 else "application/json"
    return method, path, operations()[(method, path)]["responses"][str(status)]["$ref"], media


@pytest.mark.parametrize(
    ("file", "options", "paddle_does", "status", "code"), [pytest.param(*s[1:], id=s[0]) for s in SCENARIOS]
)
def test_the_handler_answers_as_the_document_declares(
    aws: Any, paddle: PaddleStub, monkeypatch: pytest.MonkeyPatch,
    file: str, options: dict[str, Any], paddle_does: str | None, status: int, code: str | None,
) -> None:  # fmt: skip
    # Given Paddle's behaviour, the link signing keys, and an event for the route
    aws.client.create_secret(Name=LINK_SECRET_ID, SecretString=json.dumps(LINK_KEYS))
    monkeypatch.setenv("PORTAL_LINK_SIGNING_SECRET_ID", LINK_SECRET_ID)
    for name, value in options.get("env", {}).items():
        monkeypatch.setenv(name, value)
    PADDLE_DOES[paddle_does](paddle)
    event = http_event(file, options.get("body"), accept=options.get("accept"))
    if "query" in options:
        event = with_query(event, options["query"]() if callable(options["query"]) else options["query"])

    # When the real handler runs
    response = lambda_handler(event, LambdaContext(remaining_ms=options.get("remaining_ms", 15_000)))

    # Then it answered what the scenario is about, in the content type and shape the document declares
    method, path, _, media_type = answer_of(file, options, status)
    assert response["statusCode"] == status, response.get("body")
    assert response["headers"].get("Content-Type", "").partition(";")[0] == media_type
    if code is not None and media_type == "application/json":
        assert json.loads(response["body"])["error"]["code"] == code
    assert check_response(method, path, response) == []


def test_the_scenarios_check_every_answer_the_document_declares_for_the_function() -> None:
    """Each route's success, and every declared response in each content type (503 is API Gateway's own)."""
    checked = [answer_of(file, options, status) for _, file, options, _, status, _ in SCENARIOS]
    declared = {
        (ref["$ref"], media)
        for operation in operations().values()
        for ref in operation["responses"].values()
        if not ref["$ref"].endswith("/ServiceUnavailable")
        for media in resolve(ref).get("content") or [""]
    }
    assert declared - {(ref, media) for _, _, ref, media in checked} == set()
    assert {
        (method, path) for method, path, ref, _ in checked if ref.endswith(("Session", "Created", "Portal"))
    } == set(operations())


PATH = "/customers/{customer_id}/portal-sessions"
JSON_ = {"Content-Type": "application/json", "Cache-Control": "no-store"}


@pytest.mark.parametrize(
    ("status", "headers", "code", "problem"),
    [
        (418, {}, "x", f"status 418 is not declared for POST {PATH}"),
        (502, {"Content-Type": "application/json"}, "bad_gateway", "required header Cache-Control is missing"),
        (404, JSON_, "gone", "(root): "),  # neither our envelope with a code of ours, nor API Gateway's message
        (404, {**JSON_, "Content-Type": "text/html"}, "not_found", "content type 'text/html' is not one of"),
    ],
)
def test_check_response_catches_a_drift(status: int, headers: dict[str, str], code: str, problem: str) -> None:
    """The checker must fail on a wrong answer, or the scenarios prove nothing."""
    body = {"error": {"type": "request_error", "code": code, "detail": "x"}, "meta": {"request_id": "r"}}

    found = check_response("POST", PATH, {"statusCode": status, "headers": headers, "body": json.dumps(body)})

    assert [problem for problem_found in found if problem_found.startswith(problem)] == [problem], found
