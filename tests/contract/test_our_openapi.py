"""Our own OpenAPI document (`openapi/paddle-portal.openapi.yaml`) says what the service does.

- It is a valid OpenAPI 3.1 document whose schemas are valid JSON Schema 2020-12 and whose `$ref`s all resolve.
- Its operations are exactly the routes of `template.yaml` and of the function's route table, with the same auth.
- Its parameters and bodies carry the same rules as the function's models.
- What the real handler answers, for every status it can produce, is declared there and matches the schemas.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, get_args
from urllib.parse import parse_qsl

import pytest
from jsonschema import Draft202012Validator
from schemathesis.specs.openapi.definitions import OPENAPI_31

from paddle_portal.app import lambda_handler
from paddle_portal.http_api.bodies import (
    BROWSER_LINK_DEFAULT_SECONDS,
    BROWSER_LINK_MAX_SECONDS,
    BrowserLinkBody,
    CreateSessionBody,
    CustomerPath,
    MintLinkBody,
    PortalQuery,
)
from paddle_portal.http_api.routes import ROUTES
from paddle_portal.paddle.ids import Action

# The verifier's own field list and patterns (private: nothing else should need them), to compare the document with.
from paddle_portal.signed_links import _FIELDS as LINK_FIELDS
from paddle_portal.signed_links import _PATTERNS as LINK_PATTERNS
from paddle_portal.signed_links import (
    DEFAULT_LIFETIME_SECONDS,
    MAX_LIFETIME_SECONDS,
    MIN_LIFETIME_SECONDS,
    LinkClaims,
    SigningKeys,
    sign,
)
from paddle_portal.validation import MAX_SUBSCRIPTION_IDS
from tests.contract.documents import (
    our_document,
    our_validator,
    paddle_document,
    paddle_validator,
    problems,
    template,
)
from tests.events import http_event, load_event
from tests.support import (
    CUSTOMER_ID,
    OTHER_CUSTOMER_ID,
    SUBSCRIPTION_ID,
    LambdaContext,
    PaddleStub,
    SecretsManagerCalls,
    paddle_error,
)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCHEME_AUTH = {"sigv4": "iam", "jwt": "jwt"}  # our document's security schemes -> the function's Auth values
# An empty security requirement (`security: [{}]`): no credential; on our API only the signed-link route, where the
# link itself is the credential.
ANONYMOUS = "link"

Route = tuple[str, str, str]  # (METHOD, path template, "iam" | "jwt" | "link")

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


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def resolve(node: dict[str, Any], document: dict[str, Any] | None = None) -> dict[str, Any]:
    """Follow a local `$ref` (responses, parameters, headers, request bodies)."""
    document = document or our_document()
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


# --- the document itself


def test_document_is_valid_openapi_3_1() -> None:
    checker = Draft202012Validator(OPENAPI_31)

    assert our_document()["openapi"].startswith("3.1.")
    assert problems(checker, our_document()) == []


def test_trimmed_paddle_document_is_valid_openapi_3_1() -> None:
    assert problems(Draft202012Validator(OPENAPI_31), paddle_document()) == []


def test_every_schema_is_valid_json_schema_2020_12() -> None:
    for schema in our_document()["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)  # raises SchemaError, naming the problem


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_every_reference_resolves_and_every_component_is_used() -> None:
    refs = set(_refs(our_document()))
    for ref in refs:
        resolve({"$ref": ref})  # raises KeyError for a dangling reference

    components = {
        f"#/components/{section}/{name}"
        for section, items in our_document()["components"].items()
        if section != "securitySchemes"
        for name in items
    }
    assert components - refs == set(), "components nothing refers to"


# --- routes: document == template.yaml == the function's route table


def document_routes() -> set[Route]:
    routes = set()
    for (method, path), operation in operations(our_document()).items():
        [requirement] = operation["security"]
        if requirement == {}:
            routes.add((method, path, ANONYMOUS))
            continue
        [scheme] = requirement
        routes.add((method, path, SCHEME_AUTH[scheme]))
    return routes


def _branches(value: Any) -> list[Any]:
    """Both outcomes of an `Fn::If` (recursively), without `!Ref AWS::NoValue`; a plain value is its own branch."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        _, when_true, when_false = value["Fn::If"]
        return _branches(when_true) + _branches(when_false)
    if value == {"Ref": "AWS::NoValue"}:
        return []
    return [value]


def template_routes() -> set[Route]:
    """Routes from SAM `HttpApi` function events and from the HTTP API's OpenAPI `DefinitionBody` (conditional
    routes count: they exist whenever their condition holds)."""
    routes: set[Route] = set()
    for resource in template()["Resources"].values():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function":
            for event in (properties.get("Events") or {}).values():
                if event.get("Type") == "HttpApi":
                    spec = event["Properties"]
                    authorizer = (spec.get("Auth") or {}).get("Authorizer")
                    kind = {"AWS_IAM": "iam", None: ANONYMOUS}.get(authorizer, authorizer)
                    routes.add((spec["Method"].upper(), spec["Path"], kind))
        if resource.get("Type") == "AWS::Serverless::HttpApi":
            body = properties.get("DefinitionBody") or {}
            schemes = {
                name: branch
                for name, value in ((body.get("components") or {}).get("securitySchemes") or {}).items()
                for branch in _branches(value)
            }
            for path, item in (body.get("paths") or {}).items():
                for branch in _branches(item):
                    for method, operation in branch.items():
                        if method not in HTTP_METHODS:
                            continue
                        kinds = set()
                        for requirement in operation.get("security") or [{}]:
                            for name in requirement or {"(none)": []}:
                                authorizer = (schemes.get(name) or {}).get("x-amazon-apigateway-authorizer") or {}
                                kinds.add("iam" if name == "AWS_IAM" else authorizer.get("type", name))
                        [kind] = kinds
                        routes.add((method.upper(), path, kind))
    return routes


def function_routes() -> set[Route]:
    return {(route.method, route.template, route.auth.value) for route in ROUTES}


def test_template_routes_are_found() -> None:
    """The parser above must see something: seven routes, three IAM, three JWT, one anonymous (the signed link)."""
    assert len(template_routes()) == 7
    assert sorted(kind for _, _, kind in template_routes()) == ["iam", "iam", "iam", "jwt", "jwt", "jwt", "link"]
    assert ("GET", "/links/portal", "link") in template_routes()


def test_document_routes_are_the_templates_routes() -> None:
    assert document_routes() == template_routes()


def test_document_routes_are_the_functions_routes() -> None:
    assert document_routes() == function_routes()


def test_path_parameters_are_the_templates_placeholders() -> None:
    for (_method, path), operation in operations(our_document()).items():
        declared = {resolve(p)["name"] for p in operation.get("parameters", []) if resolve(p)["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), path


# --- parameters and bodies: the same rules as the function's models


def _model_pattern(model: Any, field: str) -> str:
    schema = model.model_json_schema()
    node = schema["properties"][field]
    for option in node.get("anyOf", [node]):
        if "pattern" in option:
            return str(option["pattern"])
    raise AssertionError(f"no pattern for {field}")


def test_id_patterns_are_the_models() -> None:
    schemas = our_document()["components"]["schemas"]

    assert schemas["CustomerId"]["pattern"] == _model_pattern(CustomerPath, "customer_id")
    assert schemas["SubscriptionId"]["pattern"] == _model_pattern(PortalQuery, "subscription_id")


def test_query_parameters_are_the_models() -> None:
    parameters = our_document()["components"]["parameters"]

    assert parameters["Action"]["schema"]["enum"] == list(get_args(Action))
    assert parameters["Action"]["schema"]["default"] == PortalQuery.model_fields["action"].default
    assert set(PortalQuery.model_fields) == {parameters["Action"]["name"], parameters["SubscriptionIdQuery"]["name"]}


@pytest.mark.parametrize(
    ("schema", "model"),
    [
        pytest.param("CreatePortalSessionRequest", CreateSessionBody, id="session"),
        pytest.param("CreatePortalLinkRequest", MintLinkBody, id="link"),
        pytest.param("CreateBrowserPortalLinkRequest", BrowserLinkBody, id="browser-link"),
    ],
)
def test_request_bodies_are_the_models(schema: str, model: type[Any]) -> None:
    body = our_document()["components"]["schemas"][schema]

    assert set(body["properties"]) == set(model.model_fields)
    assert body["additionalProperties"] is False


def test_session_body_limits_are_the_models_and_paddles() -> None:
    ids = our_document()["components"]["schemas"]["CreatePortalSessionRequest"]["properties"]["subscription_ids"]

    assert (ids["maxItems"], ids["uniqueItems"]) == (MAX_SUBSCRIPTION_IDS, True)
    paddles = paddle_document()["components"]["schemas"]["customer-portal-session-create"]
    assert ids["maxItems"] == paddles["properties"]["subscription_ids"]["maxItems"]


def test_post_routes_take_the_body_and_get_routes_the_query() -> None:
    for (method, path), operation in operations(our_document()).items():
        query = {resolve(p)["name"] for p in operation.get("parameters", []) if resolve(p)["in"] == "query"}
        if method == "POST":
            assert "requestBody" in operation, path
            assert query == set(), path
            assert resolve(operation["requestBody"])["required"] is False, "an absent body is valid"
        elif path == "/links/portal":
            assert "requestBody" not in operation, path
            assert query == set(LINK_FIELDS), path
        else:
            assert "requestBody" not in operation, path
            assert query == {"action", "subscription_id"}, path


def test_signed_link_parameters_are_the_verifiers() -> None:
    """Every field of a link is required and has exactly the pattern `signed_links.verify` enforces."""
    operation = operations(our_document())[("GET", "/links/portal")]
    parameters = {resolve(p)["name"]: resolve(p) for p in operation["parameters"]}

    assert list(parameters) == list(LINK_FIELDS)
    for name, parameter in parameters.items():
        assert parameter["required"] is True, name
        schema = resolve(parameter["schema"], our_document()) if "$ref" in parameter["schema"] else parameter["schema"]
        check = Draft202012Validator(_inline(schema, our_document()))
        for sample in LINK_SAMPLES[name]:
            assert check.is_valid(sample) is bool(LINK_PATTERNS[name].fullmatch(sample)), (name, sample)


@pytest.mark.parametrize(
    ("schema", "model", "longest", "default"),
    [
        ("CreatePortalLinkRequest", MintLinkBody, MAX_LIFETIME_SECONDS, DEFAULT_LIFETIME_SECONDS),
        ("CreateBrowserPortalLinkRequest", BrowserLinkBody, BROWSER_LINK_MAX_SECONDS, BROWSER_LINK_DEFAULT_SECONDS),
    ],
)
def test_mint_body_lifetime_and_defaults_are_the_models(
    schema: str, model: type[MintLinkBody], longest: int, default: int
) -> None:
    body = our_document()["components"]["schemas"][schema]
    lifetime = body["properties"]["expires_in"]

    assert (lifetime["minimum"], lifetime["maximum"]) == (MIN_LIFETIME_SECONDS, longest)
    assert lifetime["default"] == model.model_fields["expires_in"].default == default
    assert body["properties"]["action"]["default"] == model.model_fields["action"].default
    assert our_document()["components"]["schemas"]["PortalAction"]["enum"] == list(get_args(Action))


def test_link_refusals_are_declared_with_both_codes_and_the_html_page() -> None:
    refusal = resolve(operations(our_document())[("GET", "/links/portal")]["responses"]["403"])
    codes = _inline(our_document()["components"]["schemas"]["LinkRefusedError"], our_document())

    assert set(refusal["content"]) == {"application/json", "text/html"}
    assert codes["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"] == ["invalid_link", "link_expired"]


def _strip_annotations(node: Any) -> Any:
    """A schema without what does not constrain (descriptions, titles, examples, extensions, readOnly)."""
    if isinstance(node, dict):
        return {
            key: _strip_annotations(value)
            for key, value in node.items()
            if key not in ("description", "title", "examples", "readOnly") and not key.startswith("x-")
        }
    if isinstance(node, list):
        return [_strip_annotations(item) for item in node]
    return node


def _inline(node: Any, document: dict[str, Any]) -> Any:
    """Replace `$ref`s by their targets. A `$ref` with siblings (Paddle adds descriptions) merges them."""
    if isinstance(node, dict):
        if "$ref" in node:
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            return _inline({**resolve({"$ref": node["$ref"]}, document), **siblings}, document)
        return {key: _inline(value, document) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, document) for item in node]
    return node


def test_portal_session_schema_is_paddles() -> None:
    """`data` is Paddle's session exactly as Paddle returned it: our schema for it must be Paddle's."""
    ours = _strip_annotations(_inline(our_document()["components"]["schemas"]["PortalSession"], our_document()))
    paddles = _strip_annotations(
        _inline(paddle_document()["components"]["schemas"]["customer-portal-session"], paddle_document())
    )

    assert ours == paddles


# --- what the handler answers is what the document declares


def check_response(method: str, path: str, response: dict[str, Any]) -> list[str]:
    """Problems of a handler response against the document: status declared, required headers present and valid,
    body valid against the declared schema (or absent when none is declared)."""
    operation = operations(our_document())[(method, path)]
    declared = operation["responses"].get(str(response["statusCode"]))
    if declared is None:
        return [f"status {response['statusCode']} is not declared for {method} {path}"]
    found: list[str] = []
    headers = {name.lower(): value for name, value in (response.get("headers") or {}).items()}
    for name, header in (resolve(declared).get("headers") or {}).items():
        header = resolve(header)
        value = headers.get(name.lower())
        if value is None:
            if header.get("required"):
                found.append(f"required header {name} is missing")
            continue
        typed = int(value) if header["schema"].get("type") == "integer" else value
        found += [f"header {name}: {p}" for p in problems(Draft202012Validator(header["schema"]), typed)]
    content = resolve(declared).get("content")
    if content is None:
        if response.get("body"):
            found.append("a body was sent where none is declared")
        return found
    media_type = headers.get("content-type", "").partition(";")[0].strip()
    if media_type not in content:
        return [*found, f"content type {headers.get('content-type')!r} is not one of {sorted(content)}"]
    # Responses are `$ref`s to components/responses (a JSON pointer cannot pass through a `$ref`).
    checker = our_validator(declared["$ref"].removeprefix("#") + f"/content/{media_type.replace('/', '~1')}/schema")
    body = json.loads(response["body"]) if media_type == "application/json" else response["body"]
    return found + problems(checker, body)


LINK_SECRET_ID = "paddle-portal/link-signing-keys"
LINK_KEYS = {"active": "k1", "k1": "FAKE0link0signing0key0for0the0contract0tests0000000000000000"}


@pytest.fixture
def handler(aws: SecretsManagerCalls, paddle: PaddleStub, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real handler, with the link signing secret configured too."""
    aws.client.create_secret(Name=LINK_SECRET_ID, SecretString=json.dumps(LINK_KEYS))
    monkeypatch.setenv("PORTAL_LINK_SIGNING_SECRET_ID", LINK_SECRET_ID)

    def call(event: Any, remaining_ms: int = 15_000) -> Any:
        return lambda_handler(event, LambdaContext(remaining_ms=remaining_ms))

    return call


def link(action: str = "overview", subscription_id: str | None = None, expires_in: int = 3600) -> Any:
    """A query (made when the scenario runs) of a link signed with the scenario keys."""

    def make() -> str:
        claims = LinkClaims(CUSTOMER_ID, action, subscription_id, int(time.time()) + expires_in)  # type: ignore[arg-type]
        return sign(claims, SigningKeys.parse(json.dumps(LINK_KEYS)))

    return make


def tampered(make: Any) -> Any:
    return lambda: make().replace(f"c={CUSTOMER_ID}", f"c={OTHER_CUSTOMER_ID}")


IAM_POST = ("POST", "/customers/{customer_id}/portal-sessions", "http_api/post_portal_sessions_iam.json")
IAM_GET = ("GET", "/customers/{customer_id}/portal", "http_api/get_portal_iam.json")
JWT_POST = ("POST", "/portal-sessions", "http_api/post_portal_sessions_jwt.json")
JWT_GET = ("GET", "/portal", "http_api/get_portal_jwt.json")
MINT = ("POST", "/customers/{customer_id}/portal-links", "http_api/post_portal_links_iam.json")
JWT_MINT = ("POST", "/portal-links", "http_api/post_portal_links_jwt.json")
FOLLOW = ("GET", "/links/portal", "http_api/get_links_portal.json")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JWT_AUTHORIZER = load_event("http_api/post_portal_sessions_jwt.json")["requestContext"]["authorizer"]
IAM_AUTHORIZER = load_event("http_api/post_portal_sessions_iam.json")["requestContext"]["authorizer"]
DEEP_LINK = json.dumps({"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID})
ONE_ID = json.dumps({"subscription_ids": [SUBSCRIPTION_ID]})


def _paddle_answers(status: int, body: Any, headers: dict[str, str] | None = None) -> Any:
    return lambda paddle: paddle.answers(status, body, headers=headers)


# The verified-email lookup (CUSTOMER_LOOKUP=verified_email) on the JWT routes: the events' tokens carry a verified
# `email`; Paddle's list-customers answers with these customers for it.
LOOKUP = {"CUSTOMER_LOOKUP": "verified_email"}
TOKEN_EMAIL = JWT_AUTHORIZER["jwt"]["claims"]["email"]


def _listed(*customer_ids: str, then_session: bool = False) -> Any:
    customers = [
        {
            "id": customer_id,
            "status": "active",
            "custom_data": None,
            "name": None,
            "email": TOKEN_EMAIL,
            "marketing_consent": False,
            "locale": "en",
            "created_at": "2024-04-11T15:57:24.813Z",
            "updated_at": "2024-04-11T15:57:24.813Z",
            "import_meta": None,
        }
        for customer_id in customer_ids
    ]
    answer = {
        "data": customers,
        "meta": {
            "request_id": "913dee78-d496-4d13-a93e-09d834c208dd",
            "pagination": {"per_page": 50, "next": "https://api.paddle.com/customers?after=x", "has_more": False},
        },
    }
    assert (
        problems(paddle_validator("/paths/~1customers/get/responses/200/content/application~1json/schema"), answer)
        == []
    )

    def prepare(paddle: PaddleStub) -> None:
        paddle.server.expect_request("/customers", method="GET").respond_with_json(answer)
        if then_session:
            paddle.creates_session(customer_ids[0])

    return prepare


# What Paddle answers (scenarios that share one use the same), the bodies and queries too long for a table row
PADDLE_FIELD_ERROR = _paddle_answers(
    400, paddle_error("invalid_field", errors=[{"field": "subscription_ids", "message": "no"}])
)
PADDLE_NOT_FOUND = _paddle_answers(404, paddle_error("not_found"))
PADDLE_RATE_LIMITED = _paddle_answers(429, paddle_error("too_many_requests"), {"Retry-After": "30"})
PADDLE_REJECTS_KEY = _paddle_answers(403, paddle_error("invalid_token"))
LISTED_ONE = _listed(CUSTOMER_ID, then_session=True)
LISTED_TWO = _listed(CUSTOMER_ID, OTHER_CUSTOMER_ID)
TOO_MANY_IDS = json.dumps({"subscription_ids": [f"sub_a{n:025d}" for n in range(26)]})
TOO_LARGE = json.dumps({"subscription_ids": ["x" * 17_000]})
TOO_LARGE_LINK_BODY = json.dumps({"action": "x" * 17_000})
DEEP_LINK_QUERY = f"action=cancel_subscription&subscription_id={SUBSCRIPTION_ID}"
IAM_POST_NO_IDENTITY = (*IAM_POST[:2], "http_api/post_portal_sessions_no_identity.json")
JWT_GET_WITHOUT_CLAIM = (*JWT_GET[:2], "http_api/get_portal_jwt_missing_claim.json")
LINK_DEEP = link("cancel_subscription", SUBSCRIPTION_ID)
PAGE_VIEW = {"accept": "text/html", "query": ""}
JSON_VIEW = {"accept": "application/json", "query": ""}
PAGE_LINK = {"accept": BROWSER, "query": link()}
JSON_LINK = {"accept": "application/json", "query": link()}
UNVERIFIED = {"email_verified": "false"}
TWO_ADDRESSES = {"email": f"{TOKEN_EMAIL},someone@example.com"}

SCENARIOS = [
    # (id, route, event overrides, what Paddle does, expected status, expected code)
    ("created-iam", IAM_POST, {"body": ONE_ID}, "session", 201, None),
    ("created-jwt", JWT_POST, {"body": "{}"}, "session", 201, None),
    ("created-no-body", IAM_POST, {"body": None}, "session", 201, None),
    ("redirect-iam", IAM_GET, PAGE_VIEW, "session", 302, None),
    ("redirect-jwt-deep-link", JWT_GET, {"accept": "text/html", "query": DEEP_LINK_QUERY}, "session-one", 302, None),
    ("json-iam", IAM_GET, JSON_VIEW, "session", 200, None),
    ("json-jwt", JWT_GET, {"accept": "application/json", "query": "action=overview"}, "session", 200, None),
    ("not-json", IAM_POST, {"body": "{not json"}, None, 400, "invalid_json"),
    ("not-an-object", JWT_POST, {"body": "[]"}, None, 400, "invalid_json"),
    ("too-many-ids", IAM_POST, {"body": TOO_MANY_IDS}, None, 400, "invalid_field"),
    ("unknown-field", JWT_POST, {"body": json.dumps({"customer_id": CUSTOMER_ID})}, None, 400, "invalid_field"),
    ("bad-action", IAM_GET, {"query": "action=delete_everything"}, None, 400, "invalid_field"),
    ("action-without-subscription", JWT_GET, {"query": "action=cancel_subscription"}, None, 400, "invalid_field"),
    ("no-identity", IAM_POST_NO_IDENTITY, {"body": "{}"}, None, 401, "authentication_missing"),
    ("jwt-without-claim", JWT_GET_WITHOUT_CLAIM, {}, None, 403, "forbidden"),
    ("body-too-large", IAM_POST, {"body": TOO_LARGE}, None, 413, "request_too_large"),
    ("paddle-field-error", IAM_POST, {"body": ONE_ID}, PADDLE_FIELD_ERROR, 400, "invalid_field"),
    ("paddle-not-found", IAM_POST, {"body": ONE_ID}, PADDLE_NOT_FOUND, 404, "not_found"),
    ("paddle-rate-limited", JWT_POST, {"body": "{}"}, PADDLE_RATE_LIMITED, 429, "too_many_requests"),
    ("key-rejected", IAM_POST, {"body": "{}"}, PADDLE_REJECTS_KEY, 500, "configuration_error"),
    ("link-on-foreign-host", IAM_GET, PAGE_VIEW, "session-foreign-host", 502, "bad_gateway"),
    ("deadline", IAM_POST, {"body": "{}", "remaining_ms": 1_000}, None, 504, "gateway_timeout"),
    # JWT routes with the verified-email lookup
    ("lookup-created", JWT_POST, {"body": "{}", "env": LOOKUP}, LISTED_ONE, 201, None),
    ("lookup-redirect", JWT_GET, {**PAGE_VIEW, "env": LOOKUP}, LISTED_ONE, 302, None),
    ("lookup-nobody", JWT_GET, {**JSON_VIEW, "env": LOOKUP}, _listed(), 404, "not_found"),
    ("lookup-nobody-post", JWT_POST, {"body": "{}", "env": LOOKUP}, _listed(), 404, "not_found"),
    ("lookup-ambiguous", JWT_GET, {**PAGE_VIEW, "env": LOOKUP}, LISTED_TWO, 409, "ambiguous_customer"),
    ("lookup-ambiguous-post", JWT_POST, {"body": "{}", "env": LOOKUP}, LISTED_TWO, 409, "ambiguous_customer"),
    ("lookup-unverified", JWT_GET, {**JSON_VIEW, "env": LOOKUP, "claims": UNVERIFIED}, None, 403, "forbidden"),
    ("lookup-two-addresses", JWT_POST, {"body": "{}", "env": LOOKUP, "claims": TWO_ADDRESSES}, None, 403, "forbidden"),
    # Signed links: minting (IAM) and following (anonymous; the link is the credential)
    ("link-minted", MINT, {"body": DEEP_LINK}, None, 201, None),
    ("link-minted-no-body", MINT, {"body": None}, None, 201, None),
    ("link-mint-bad-lifetime", MINT, {"body": json.dumps({"expires_in": 59})}, None, 400, "invalid_field"),
    ("link-mint-not-json", MINT, {"body": "{not json"}, None, 400, "invalid_json"),
    ("link-mint-no-identity", MINT, {"body": "{}", "authorizer": None}, None, 401, "authentication_missing"),
    ("link-mint-jwt", MINT, {"body": "{}", "authorizer": JWT_AUTHORIZER}, None, 403, "forbidden"),
    ("browser-link-minted", JWT_MINT, {"body": "{}"}, None, 201, None),
    ("browser-link-too-long", JWT_MINT, {"body": json.dumps({"expires_in": 301})}, None, 400, "invalid_field"),
    ("browser-link-iam", JWT_MINT, {"body": "{}", "authorizer": IAM_AUTHORIZER}, None, 403, "forbidden"),
    ("browser-link-lookup-none", JWT_MINT, {"body": "{}", "env": LOOKUP}, _listed(), 404, "not_found"),
    ("link-mint-too-large", MINT, {"body": TOO_LARGE_LINK_BODY}, None, 413, "request_too_large"),
    ("link-followed", FOLLOW, {"accept": BROWSER, "query": LINK_DEEP}, "session-one", 302, None),
    ("link-followed-json", FOLLOW, JSON_LINK, "session", 200, None),
    ("link-tampered", FOLLOW, {"accept": "application/json", "query": tampered(link())}, None, 403, "invalid_link"),
    ("link-tampered-browser", FOLLOW, {"accept": BROWSER, "query": tampered(link())}, None, 403, "invalid_link"),
    ("link-expired", FOLLOW, {"accept": "application/json", "query": link(expires_in=-60)}, None, 403, "link_expired"),
    ("link-sample-expired", FOLLOW, {}, None, 403, "link_expired"),
    ("link-customer-gone", FOLLOW, JSON_LINK, PADDLE_NOT_FOUND, 404, "not_found"),
    ("link-customer-gone-browser", FOLLOW, PAGE_LINK, PADDLE_NOT_FOUND, 404, "not_found"),
    ("link-paddle-rate-limited-browser", FOLLOW, PAGE_LINK, PADDLE_RATE_LIMITED, 429, "too_many_requests"),
    ("link-key-rejected", FOLLOW, JSON_LINK, PADDLE_REJECTS_KEY, 500, "configuration_error"),
    ("link-foreign-host", FOLLOW, PAGE_LINK, "session-foreign-host", 502, "bad_gateway"),
    ("link-deadline", FOLLOW, {**JSON_LINK, "remaining_ms": 1_000}, None, 504, "gateway_timeout"),
]


def _prepare(paddle: PaddleStub, paddle_does: Any) -> None:
    if paddle_does == "session":
        paddle.creates_session()
    elif paddle_does == "session-one":
        paddle.creates_session(subscription_ids=(SUBSCRIPTION_ID,))
    elif paddle_does == "session-foreign-host":
        paddle.creates_session(host="https://portal.example.com")
    elif callable(paddle_does):
        paddle_does(paddle)


@pytest.mark.parametrize(
    ("route", "overrides", "paddle_does", "status", "code"),
    [pytest.param(*scenario[1:], id=scenario[0]) for scenario in SCENARIOS],
)
def test_handler_answers_as_the_document_declares(
    handler: Any,
    paddle: PaddleStub,
    monkeypatch: pytest.MonkeyPatch,
    route: tuple[str, str, str],
    overrides: dict[str, Any],
    paddle_does: Any,
    status: int,
    code: str | None,
) -> None:
    # Given Paddle's behaviour and an event for the route
    method, path, event_file = route
    _prepare(paddle, paddle_does)
    options = dict(overrides)
    remaining_ms = options.pop("remaining_ms", 15_000)
    body = options.pop("body", None) if "body" in options else None
    authorizer = options.pop("authorizer", "as-in-the-file")
    for name, value in options.pop("env", {}).items():
        monkeypatch.setenv(name, value)
    claims = options.pop("claims", None)
    if callable(options.get("query")):
        options["query"] = options["query"]()
    event = http_event(event_file, body, **options)
    if authorizer is None:
        del event["requestContext"]["authorizer"]
    elif authorizer != "as-in-the-file":
        event["requestContext"]["authorizer"] = authorizer
    if claims is not None:
        event["requestContext"]["authorizer"]["jwt"]["claims"].update(claims)
    if event.get("queryStringParameters") is not None and "query" in options:
        event["queryStringParameters"] = dict(parse_qsl(options["query"], keep_blank_values=True)) or None

    # When the real handler runs
    response = handler(event, remaining_ms)

    # Then it answered what the scenario is about, in the shape the document declares for that status
    assert response["statusCode"] == status, response.get("body")
    if code is not None and response["headers"]["Content-Type"] == "application/json":
        assert json.loads(response["body"])["error"]["code"] == code
    elif code is not None:  # the page browsers get on the follow route
        assert response["headers"]["Content-Type"].startswith("text/html")
    assert check_response(method, path, response) == []


def test_every_declared_function_status_is_exercised() -> None:
    """Every status the document lets the function answer appears in the scenarios above (503 is API Gateway's)."""
    declared = {int(status) for operation in operations(our_document()).values() for status in operation["responses"]}
    assert declared - {scenario[4] for scenario in SCENARIOS} == {503}


def test_ambiguous_customer_is_declared_on_the_jwt_routes_only() -> None:
    """Only the verified-email lookup answers 409, and it runs on the JWT routes only."""
    with_409 = {
        (method, path)
        for (method, path), operation in operations(our_document()).items()
        if "409" in operation["responses"]
    }
    jwt_routes = {(method, path) for method, path, kind in document_routes() if kind == "jwt"}

    assert with_409 == jwt_routes == {(route.method, route.template) for route in ROUTES if route.auth.value == "jwt"}


def test_check_response_catches_a_drift() -> None:
    """The checker above must fail on a wrong answer, or the scenarios prove nothing."""
    path = "/customers/{customer_id}/portal-sessions"
    wrong_status = {"statusCode": 418, "headers": {}, "body": ""}
    no_cache_control = {
        "statusCode": 502,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(
            {"error": {"type": "api_error", "code": "bad_gateway", "detail": "x"}, "meta": {"request_id": "r"}}
        ),
    }
    wrong_code = {
        "statusCode": 404,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(
            {"error": {"type": "request_error", "code": "gone", "detail": "x"}, "meta": {"request_id": "r"}}
        ),
    }

    assert check_response("POST", path, wrong_status) == [f"status 418 is not declared for POST {path}"]
    assert check_response("POST", path, no_cache_control) == ["required header Cache-Control is missing"]
    assert check_response("POST", path, wrong_code) != []


def test_paddle_error_envelope_fields_pass_through_our_error_schema() -> None:
    """Our envelope is Paddle's minus `documentation_url`: a Paddle field error fits ours unchanged."""
    body = paddle_error("invalid_field", errors=[{"field": "subscription_ids[0]", "message": "bad"}])
    assert problems(paddle_validator("/components/schemas/error"), body) == []

    del body["error"]["documentation_url"]

    assert problems(our_validator("/components/schemas/Error"), body) == []
