"""`http_events`, `http_api` routing and `auth`: the three HTTP event shapes become one routed request; the caller
is checked against the route before anything else happens."""

from __future__ import annotations

import pytest

from paddle_portal.errors import AuthenticationMissingError, ForbiddenError, InvalidRequestError, RouteNotFoundError
from paddle_portal.http_api.auth import Auth, Caller, IamPrincipal, TokenCustomer, authenticate
from paddle_portal.http_api.events import HttpRequest, IamIdentity, Identity, JwtIdentity
from paddle_portal.http_api.routes import Route, parse_http_event
from tests.events import load_event
from tests.support import CUSTOMER_ID, SUBSCRIPTION_ID

CLAIM = "custom:paddle_customer_id"
ASSUMED_ROLE = "arn:aws:sts::123456789012:assumed-role/r/s"


def routed(event: dict[str, object]) -> Route:
    return parse_http_event(event)[0]


def parsed(event: dict[str, object]) -> HttpRequest:
    return parse_http_event(event)[1]


def authorize(route_and_request: tuple[Route, HttpRequest], claim_name: str) -> Caller:
    route, request = route_and_request
    return authenticate(request.identity, route.auth, claim_name)


@pytest.mark.parametrize(
    ("name", "method", "auth", "identity"),
    [
        pytest.param("http_api/post_portal_sessions_iam.json", "POST", Auth.IAM, IamIdentity, id="v2-iam"),
        pytest.param("http_api/get_portal_jwt.json", "GET", Auth.JWT, JwtIdentity, id="v2-jwt"),
        pytest.param(
            "http_api/post_portal_sessions_no_identity.json", "POST", Auth.IAM, type(None), id="v2-no-authorizer"
        ),
        pytest.param("rest_api/post_portal_sessions_iam.json", "POST", Auth.IAM, IamIdentity, id="rest-iam"),
        pytest.param("rest_api/get_portal_cognito.json", "GET", Auth.JWT, JwtIdentity, id="rest-cognito"),
        pytest.param(
            "rest_api/post_portal_sessions_no_identity.json", "POST", Auth.IAM, type(None), id="rest-null-identity"
        ),
        pytest.param("function_url/post_portal_sessions_iam.json", "POST", Auth.IAM, IamIdentity, id="furl-iam"),
        pytest.param("function_url/get_portal_no_auth.json", "GET", Auth.IAM, type(None), id="furl-no-auth"),
    ],
)
def test_route_and_identity(name: str, method: str, auth: Auth, identity: type) -> None:
    route, request = parse_http_event(load_event(name))

    assert route.method == method
    assert route.auth is auth
    assert type(request.identity) is identity


def test_function_url_routes_on_the_raw_path() -> None:
    route, request = parse_http_event(load_event("function_url/post_portal_sessions_iam.json"))

    assert route.template == "/customers/{customer_id}/portal-sessions"
    assert request.path_params == {"customer_id": CUSTOMER_ID}
    assert request.body() == b'{"subscription_ids":["' + SUBSCRIPTION_ID.encode() + b'"]}'


def test_named_stage_prefix_is_removed_from_the_raw_path() -> None:
    # Given a catch-all route on a named stage: rawPath carries the stage
    event = load_event("http_api/post_portal_sessions_iam.json")
    event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
    event["requestContext"]["stage"] = "prod"
    event["rawPath"] = f"/prod/customers/{CUSTOMER_ID}/portal-sessions"
    del event["pathParameters"]

    # When / Then
    assert parsed(event).path_params == {"customer_id": CUSTOMER_ID}


def test_rest_query_keeps_repeated_values() -> None:
    event = load_event("rest_api/get_portal_iam.json")
    event["multiValueQueryStringParameters"]["action"] = ["overview", "cancel_subscription"]

    assert parsed(event).query.count(("action", "overview")) == 1
    assert ("action", "cancel_subscription") in parsed(event).query


def test_headers_are_looked_up_in_lower_case() -> None:
    request = parsed(load_event("rest_api/get_portal_cognito.json"))

    assert request.wants_json()
    assert "accept" in request.headers


@pytest.mark.parametrize(
    ("accept", "wants_json"),
    [
        pytest.param("application/json", True, id="json"),
        pytest.param("Application/JSON", True, id="json-any-case"),
        pytest.param("text/html, application/json;q=0.9", True, id="json-listed"),
        pytest.param("application/json; charset=utf-8", True, id="json-with-parameter"),
        pytest.param("application/json;q=0", False, id="json-refused"),
        pytest.param("application/json; q=0", False, id="json-refused-with-space"),
        pytest.param("application/json;q=0.0", False, id="json-refused-as-0.0"),
        pytest.param("application/json;Q=0.000", False, id="json-refused-upper-case-q"),
        pytest.param("application/json;q=0.1", True, id="json-low-weight"),
        pytest.param("application/json;q=1", True, id="json-weight-1"),
        pytest.param("application/json;q=high", False, id="json-unreadable-weight"),
        pytest.param("text/html,application/xhtml+xml,*/*;q=0.8", False, id="browser"),
        pytest.param("*/*", False, id="anything"),
        pytest.param("", False, id="empty"),
    ],
)
def test_wants_json(accept: str, wants_json: bool) -> None:
    event = load_event("http_api/get_portal_iam.json")
    event["headers"]["accept"] = accept

    assert parsed(event).wants_json() is wants_json


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("DELETE", f"/customers/{CUSTOMER_ID}/portal-sessions", id="wrong-method"),
        pytest.param("GET", "/", id="root"),
        pytest.param("GET", f"/customers/{CUSTOMER_ID}/portal/extra", id="longer-path"),
        pytest.param("POST", f"/customers/{CUSTOMER_ID}/portal", id="post-on-get-route"),
    ],
)
def test_unknown_routes(method: str, path: str) -> None:
    event = load_event("function_url/post_portal_sessions_iam.json")
    event["requestContext"]["http"]["method"] = method
    event["rawPath"] = path

    with pytest.raises(RouteNotFoundError):
        parse_http_event(event)


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"requestContext": {}}, id="empty-request-context"),
        pytest.param({"requestContext": {"requestId": "x"}, "httpMethod": "GET"}, id="rest-missing-fields"),
        pytest.param({**load_event("http_api/get_portal_iam.json"), "rawPath": None}, id="v2-raw-path-null"),
    ],
)
def test_malformed_api_events(event: dict[str, object]) -> None:
    with pytest.raises(InvalidRequestError):
        parse_http_event(event)


def jwt_request(claims: dict[str, object]) -> tuple[Route, HttpRequest]:
    route, request = parse_http_event(load_event("http_api/get_portal_jwt.json"))
    return route, HttpRequest(**{**request.__dict__, "identity": JwtIdentity(claims)})


@pytest.mark.parametrize(
    ("claims", "claim_name"),
    [
        pytest.param({CLAIM: CUSTOMER_ID}, CLAIM, id="default-claim"),
        pytest.param({"paddle_customer_id": CUSTOMER_ID}, "paddle_customer_id", id="configured-claim"),
    ],
)
def test_jwt_route_is_bound_to_the_claim(claims: dict[str, object], claim_name: str) -> None:
    assert authorize(jwt_request(claims), claim_name) == TokenCustomer(CUSTOMER_ID)


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({}, id="claim-absent"),
        pytest.param({"paddle_customer_id": CUSTOMER_ID}, id="other-claim-name"),
        pytest.param({CLAIM: "cus_123"}, id="malformed"),
        pytest.param({CLAIM: CUSTOMER_ID.upper()}, id="upper-case"),
        pytest.param({CLAIM: f"{CUSTOMER_ID} "}, id="trailing-space"),
        pytest.param({CLAIM: [CUSTOMER_ID]}, id="list"),
        pytest.param({CLAIM: ""}, id="empty"),
    ],
)
def test_jwt_route_refuses_tokens_without_a_valid_claim(claims: dict[str, object]) -> None:
    with pytest.raises(ForbiddenError):
        authorize(jwt_request(claims), CLAIM)


@pytest.mark.parametrize(
    ("name", "error"),
    [
        pytest.param("http_api/post_portal_sessions_no_identity.json", AuthenticationMissingError, id="v2-none"),
        pytest.param("function_url/get_portal_no_auth.json", AuthenticationMissingError, id="furl-none"),
        pytest.param("rest_api/post_portal_sessions_no_identity.json", AuthenticationMissingError, id="rest-none"),
        pytest.param("http_api/get_portal_jwt_missing_claim.json", ForbiddenError, id="jwt-without-claim"),
    ],
)
def test_refused_callers(name: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        authorize(parse_http_event(load_event(name)), CLAIM)


@pytest.mark.parametrize(
    ("name", "identity"),
    [
        pytest.param("http_api/post_portal_sessions_iam.json", JwtIdentity({CLAIM: CUSTOMER_ID}), id="iam-route-token"),
        pytest.param("http_api/get_portal_jwt.json", IamIdentity(ASSUMED_ROLE), id="jwt-route-iam"),
    ],
)
def test_route_refuses_the_other_kind_of_caller(name: str, identity: Identity) -> None:
    route, _ = parse_http_event(load_event(name))

    with pytest.raises(ForbiddenError):
        authenticate(identity, route.auth, CLAIM)


def test_iam_route_makes_an_iam_principal() -> None:
    # (Its customer is the path's: tests/security/test_authorization_matrix.py.)
    caller = authorize(parse_http_event(load_event("http_api/post_portal_sessions_iam.json")), CLAIM)
    assert caller == IamPrincipal("arn:aws:sts::123456789012:assumed-role/billing-backend-role/billing-backend")
