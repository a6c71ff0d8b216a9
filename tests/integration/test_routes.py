"""Every route, allowed and refused, for every caller type: HTTP API v2 (IAM, JWT), REST API v1 (IAM identity,
Cognito claims), Function URL (IAM, no auth). Refused requests cost no Paddle call and no secret read."""

from __future__ import annotations

from typing import Any

import pytest

from tests.events import BROWSER_ACCEPT, claims, function_url, http_api, rest_api
from tests.integration.checks import assert_error, body_of
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, PaddleStub

A, B = CUSTOMER_ID, OTHER_CUSTOMER_ID
IAM_POST, IAM_GET = f"/customers/{A}/portal-sessions", f"/customers/{A}/portal"
JWT_POST, JWT_GET = "/portal-sessions", "/portal"
ROUTES = [("POST", IAM_POST), ("GET", IAM_GET), ("POST", JWT_POST), ("GET", JWT_GET)]
ROUTE_IDS = ["iam-post", "iam-get", "jwt-post", "jwt-get"]


ALLOWED = [
    pytest.param(http_api("POST", IAM_POST, auth="iam"), 201, id="http-api-iam-post"),
    pytest.param(http_api("GET", IAM_GET, auth="iam", accept=BROWSER_ACCEPT), 302, id="http-api-iam-get"),
    pytest.param(http_api("POST", JWT_POST, auth="jwt"), 201, id="http-api-jwt-post"),
    pytest.param(http_api("GET", JWT_GET, auth="jwt", accept=BROWSER_ACCEPT), 302, id="http-api-jwt-get"),
    pytest.param(rest_api("POST", IAM_POST, auth="iam"), 201, id="rest-api-iam-post"),
    pytest.param(rest_api("GET", IAM_GET, auth="iam", accept=BROWSER_ACCEPT), 302, id="rest-api-iam-get"),
    pytest.param(rest_api("POST", JWT_POST, auth="cognito"), 201, id="rest-api-cognito-post"),
    pytest.param(rest_api("GET", JWT_GET, auth="cognito", accept=BROWSER_ACCEPT), 302, id="rest-api-cognito-get"),
    pytest.param(function_url("POST", IAM_POST, auth="iam"), 201, id="function-url-iam-post"),
    pytest.param(function_url("GET", IAM_GET, auth="iam", accept=BROWSER_ACCEPT), 302, id="function-url-iam-get"),
    pytest.param(http_api("POST", IAM_POST, auth="iam", route_key="$default"), 201, id="http-api-catch-all-route"),
    pytest.param(rest_api("GET", "/portal", auth="cognito", accept="application/json"), 200, id="rest-api-json"),
]


@pytest.mark.parametrize(("event", "status"), ALLOWED)
def test_allowed(event: dict[str, Any], status: int, invoke: Any, paddle: PaddleStub, aws: Any) -> None:
    sent = paddle.creates_session(A)

    response = invoke(event)

    assert response["statusCode"] == status, response["body"]
    assert response["headers"]["Cache-Control"] == "no-store"
    if status == 302:
        assert response["headers"]["Location"] == sent["data"]["urls"]["general"]["overview"]
    else:
        assert body_of(response)["data"] == sent["data"]
    [request] = paddle.requests
    assert request.path == f"/customers/{A}/portal-sessions"


REFUSED = [
    # No identity at all: the route was deployed without an authorizer, or a Function URL has AuthType NONE.
    *[
        pytest.param(http_api(m, p, auth=None), 401, "authentication_missing", id=f"http-api-none-{rid}")
        for (m, p), rid in zip(ROUTES, ROUTE_IDS, strict=True)
    ],
    *[
        pytest.param(rest_api(m, p, auth=None), 401, "authentication_missing", id=f"rest-api-none-{rid}")
        for (m, p), rid in zip(ROUTES, ROUTE_IDS, strict=True)
    ],
    *[
        pytest.param(function_url(m, p, auth=None), 401, "authentication_missing", id=f"function-url-none-{rid}")
        for (m, p), rid in zip(ROUTES, ROUTE_IDS, strict=True)
    ],
    # An identity of the wrong kind for the route.
    pytest.param(http_api("POST", IAM_POST, auth="jwt"), 403, "forbidden", id="http-api-jwt-on-iam-post"),
    pytest.param(http_api("GET", IAM_GET, auth="jwt"), 403, "forbidden", id="http-api-jwt-on-iam-get"),
    pytest.param(http_api("POST", JWT_POST, auth="iam"), 403, "forbidden", id="http-api-iam-on-jwt-post"),
    pytest.param(http_api("GET", JWT_GET, auth="iam"), 403, "forbidden", id="http-api-iam-on-jwt-get"),
    pytest.param(rest_api("POST", IAM_POST, auth="cognito"), 403, "forbidden", id="rest-api-cognito-on-iam-post"),
    pytest.param(rest_api("GET", IAM_GET, auth="cognito"), 403, "forbidden", id="rest-api-cognito-on-iam-get"),
    pytest.param(rest_api("POST", JWT_POST, auth="iam"), 403, "forbidden", id="rest-api-iam-on-jwt-post"),
    pytest.param(rest_api("GET", JWT_GET, auth="iam"), 403, "forbidden", id="rest-api-iam-on-jwt-get"),
    # JWT routes are never satisfied on a Function URL: it has no JWT authorizer.
    pytest.param(function_url("POST", JWT_POST, auth="iam"), 403, "forbidden", id="function-url-iam-on-jwt-post"),
    pytest.param(function_url("GET", JWT_GET, auth="iam"), 403, "forbidden", id="function-url-iam-on-jwt-get"),
    # A token whose claim is absent or not a Paddle customer id.
    pytest.param(
        http_api("GET", JWT_GET, auth="jwt", token_claims=claims(None)),
        403,
        "forbidden",
        id="http-api-jwt-claim-absent",
    ),
    pytest.param(
        http_api("POST", JWT_POST, auth="jwt", token_claims=claims("cus_123")),
        403,
        "forbidden",
        id="http-api-jwt-claim-malformed",
    ),
    pytest.param(
        http_api("POST", JWT_POST, auth="jwt", token_claims=claims(A.upper())),
        403,
        "forbidden",
        id="http-api-jwt-claim-upper-case",
    ),
    pytest.param(
        http_api("GET", JWT_GET, auth="jwt", token_claims=claims(A, claim="paddle_customer_id")),
        403,
        "forbidden",
        id="http-api-jwt-claim-under-another-name",
    ),
    pytest.param(
        rest_api("GET", JWT_GET, auth="cognito", token_claims=claims(None)),
        403,
        "forbidden",
        id="rest-api-cognito-claim-absent",
    ),
    pytest.param(
        rest_api("POST", JWT_POST, auth="cognito", token_claims=claims("ctm_123")),
        403,
        "forbidden",
        id="rest-api-cognito-claim-malformed",
    ),
    # A JWT caller naming another customer in a path reaches an IAM route, and is refused there.
    pytest.param(
        http_api("GET", f"/customers/{B}/portal", auth="jwt"), 403, "forbidden", id="http-api-jwt-other-customer-path"
    ),
    pytest.param(
        http_api("POST", f"/customers/{B}/portal-sessions", auth="jwt", route_key="$default"),
        403,
        "forbidden",
        id="http-api-jwt-catch-all-other-customer-path",
    ),
    pytest.param(
        rest_api("GET", f"/customers/{B}/portal", auth="cognito"),
        403,
        "forbidden",
        id="rest-api-cognito-other-customer-path",
    ),
    # No such route.
    pytest.param(
        http_api("DELETE", IAM_POST, auth="iam", route_key="$default"), 404, "not_found", id="http-api-unknown-method"
    ),
    pytest.param(function_url("GET", "/", auth="iam"), 404, "not_found", id="function-url-root"),
    pytest.param(function_url("POST", IAM_GET, auth="iam"), 404, "not_found", id="function-url-post-on-get-route"),
    pytest.param(rest_api("GET", "/admin", auth="iam"), 404, "not_found", id="rest-api-unknown-path"),
    # An IAM caller with a path that is not a customer id.
    pytest.param(
        http_api("GET", "/customers/cus_123/portal", auth="iam"), 400, "invalid_field", id="http-api-bad-path-customer"
    ),
    pytest.param(
        rest_api("POST", "/customers/ctm_123/portal-sessions", auth="iam"),
        400,
        "invalid_field",
        id="rest-api-bad-path-customer",
    ),
    pytest.param(
        function_url("GET", f"/customers/{A.upper()}/portal", auth="iam"),
        400,
        "invalid_field",
        id="function-url-bad-path-customer",
    ),
]


@pytest.mark.parametrize(("event", "status", "code"), REFUSED)
def test_refused_before_paddle_or_secrets_manager(
    event: dict[str, Any], status: int, code: str, invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    # Given Paddle would answer for anyone
    paddle.creates_session(A)
    paddle.creates_session(B)

    # When
    response = invoke(event)

    # Then the request is refused, and nothing outside was asked
    error = assert_error(response, status, code)
    assert body_of(response)["meta"]["request_id"] == event["requestContext"]["requestId"]
    assert B not in error["detail"]
    assert paddle.requests == []
    assert aws.get_secret_value == 0


PATH_CUSTOMER_IGNORED = [
    pytest.param(
        http_api("GET", JWT_GET, auth="jwt", path_parameters={"customer_id": B}, accept=BROWSER_ACCEPT),
        id="http-api-jwt-get-path-parameter",
    ),
    pytest.param(
        http_api("POST", JWT_POST, auth="jwt", path_parameters={"customer_id": B}),
        id="http-api-jwt-post-path-parameter",
    ),
    pytest.param(
        http_api("GET", f"/customers/{B}/portal", auth="jwt", route_key="GET /portal", accept=BROWSER_ACCEPT),
        id="http-api-jwt-route-key-wins-over-raw-path",
    ),
]


@pytest.mark.parametrize("event", PATH_CUSTOMER_IGNORED)
def test_jwt_routes_never_honour_a_path_customer(
    event: dict[str, Any], invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    # Given a token for customer A, and customer B named in the request's path
    paddle.creates_session(A)
    paddle.creates_session(B)

    # When
    response = invoke(event)

    # Then the session is customer A's, never B's
    assert response["statusCode"] in (201, 302), response["body"]
    assert [request.path for request in paddle.requests] == [f"/customers/{A}/portal-sessions"]


@pytest.mark.parametrize(
    ("event", "code"),
    [
        pytest.param(
            http_api("POST", JWT_POST, auth="jwt", body={"customer_id": B}), "invalid_field", id="customer_id-in-body"
        ),
        pytest.param(
            http_api("GET", JWT_GET, auth="jwt", query={"customer_id": B}), "invalid_field", id="customer_id-in-query"
        ),
        pytest.param(
            rest_api("GET", JWT_GET, auth="cognito", query={"customer_id": [B]}),
            "invalid_field",
            id="rest-customer_id-in-query",
        ),
    ],
)
def test_jwt_routes_refuse_a_customer_named_elsewhere(
    event: dict[str, Any], code: str, invoke: Any, paddle: PaddleStub, aws: Any
) -> None:
    response = invoke(event)

    error = assert_error(response, 400, code, fields=True)
    assert [item["field"] for item in error["errors"]] == ["customer_id"]
    assert paddle.requests == []
    assert aws.get_secret_value == 0


def test_configured_claim_name(invoke: Any, paddle: PaddleStub, aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given CUSTOMER_ID_CLAIM names another claim
    monkeypatch.setenv("CUSTOMER_ID_CLAIM", "paddle_customer_id")
    paddle.creates_session(A)

    # When a token carries the customer under that name, or only under the default name
    allowed = invoke(http_api("POST", JWT_POST, auth="jwt", token_claims=claims(A, claim="paddle_customer_id")))
    refused = invoke(http_api("POST", JWT_POST, auth="jwt", token_claims=claims(A)))

    # Then only the configured claim counts
    assert allowed["statusCode"] == 201
    assert_error(refused, 403, "forbidden")
    assert len(paddle.requests) == 1


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"requestContext": {}}, id="empty-request-context"),
        pytest.param({"requestContext": {"requestId": 7}, "httpMethod": "GET"}, id="rest-without-fields"),
        pytest.param({**http_api("GET", JWT_GET, auth="jwt"), "rawPath": None}, id="v2-raw-path-null"),
    ],
)
def test_malformed_api_events_are_400_with_a_request_id(
    event: dict[str, Any], invoke: Any, paddle: PaddleStub, aws: Any, context: Any
) -> None:
    response = invoke(event)

    assert_error(response, 400, "invalid_field")
    gateway_id = event["requestContext"].get("requestId")
    expected = gateway_id if isinstance(gateway_id, str) else context.aws_request_id
    assert body_of(response)["meta"]["request_id"] == expected
    assert paddle.requests == []
    assert aws.get_secret_value == 0
