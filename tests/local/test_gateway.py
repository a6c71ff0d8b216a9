"""The local API Gateway stand-in: event translation, authorizer context, answers, and the HTTP plumbing.

Run against stub handlers (the handler is an argument), so these tests pin the gateway, not the function.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

from local import gateway, server
from local.gateway import HttpRequest, LambdaContext, build_event, invoke, match_route, unsigned_jwt
from tests.support import CUSTOMER_ID, SUBSCRIPTION_ID

SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/execute-api/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0123456789abcdef"
)
NOW = 1_700_000_000.5


def event_for(method: str, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b"") -> Any:
    request = HttpRequest(method, target, headers or [("Host", "127.0.0.1:3000")], body)
    found = match_route(method, target.partition("?")[0])
    assert found is not None, f"{method} {target} should match a route"
    return build_event(request, *found, request_id="req-1", now=NOW)


@pytest.mark.parametrize(
    ("method", "path", "route_key", "params"),
    [
        pytest.param(
            "POST",
            f"/customers/{CUSTOMER_ID}/portal-sessions",
            "POST /customers/{customer_id}/portal-sessions",
            {"customer_id": CUSTOMER_ID},
            id="iam-post",
        ),
        pytest.param(
            "GET",
            f"/customers/{CUSTOMER_ID}/portal",
            "GET /customers/{customer_id}/portal",
            {"customer_id": CUSTOMER_ID},
            id="iam-get",
        ),
        pytest.param("POST", "/portal-sessions", "POST /portal-sessions", {}, id="jwt-post"),
        pytest.param("GET", "/portal", "GET /portal", {}, id="jwt-get"),
        pytest.param(
            "GET",
            "/customers/ctm%5Fx/portal",
            "GET /customers/{customer_id}/portal",
            {"customer_id": "ctm_x"},
            id="path-parameter-is-url-decoded",
        ),
        pytest.param(
            "POST",
            f"/customers/{CUSTOMER_ID}/portal-links",
            "POST /customers/{customer_id}/portal-links",
            {"customer_id": CUSTOMER_ID},
            id="link-mint",
        ),
        pytest.param("GET", "/links/portal", "GET /links/portal", {}, id="link-follow"),
        pytest.param("POST", "/links/portal", None, None, id="post-on-link-route"),
        pytest.param("GET", "/portal-sessions", None, None, id="wrong-method"),
        pytest.param("POST", "/portal", None, None, id="post-on-get-route"),
        pytest.param("GET", "/portal/", None, None, id="trailing-slash"),
        pytest.param("GET", "/customers//portal", None, None, id="empty-parameter"),
        pytest.param("GET", "/customers/a/b/portal", None, None, id="parameter-spans-segments"),
        pytest.param("GET", "/", None, None, id="root"),
    ],
)
def test_route_matching(method: str, path: str, route_key: str | None, params: dict[str, str] | None) -> None:
    found = match_route(method, path)

    if route_key is None:
        assert found is None
    else:
        assert found is not None
        assert (found[0].key, found[1]) == (route_key, params)


def test_event_is_a_valid_http_api_v2_event_with_base64_body() -> None:
    body = json.dumps({"subscription_ids": [SUBSCRIPTION_ID]}).encode()

    event = event_for(
        "POST",
        f"/customers/{CUSTOMER_ID}/portal-sessions?x=1",
        [("Host", "127.0.0.1:3000"), ("User-Agent", "curl/8"), ("Authorization", SIGV4)],
        body,
    )

    parsed = APIGatewayProxyEventV2Model.model_validate(event)  # Powertools' model of the real thing
    assert parsed.routeKey == "POST /customers/{customer_id}/portal-sessions"
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body
    assert event["pathParameters"] == {"customer_id": CUSTOMER_ID}
    context = event["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": f"/customers/{CUSTOMER_ID}/portal-sessions",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "curl/8",
    }
    assert (context["stage"], context["requestId"], context["routeKey"]) == ("$default", "req-1", event["routeKey"])
    assert (context["accountId"], context["apiId"], context["domainName"]) == (
        "123456789012",
        "local",
        "127.0.0.1:3000",
    )
    assert context["timeEpoch"] == 1_700_000_000_500
    assert context["time"] == "14/Nov/2023:22:13:20 +0000"


def test_event_without_body_query_or_parameters_omits_them() -> None:
    event = event_for("GET", "/portal")

    assert event["isBase64Encoded"] is False
    assert "body" not in event
    assert "queryStringParameters" not in event
    assert "pathParameters" not in event
    assert "cookies" not in event
    assert event["rawQueryString"] == ""


def test_headers_are_lower_cased_and_duplicates_comma_joined_cookies_moved_out() -> None:
    event = event_for(
        "GET",
        "/portal",
        [
            ("Host", "127.0.0.1:3000"),
            ("Accept", "text/html"),
            ("X-Custom", "a"),
            ("x-custom", "b"),
            ("Cookie", "a=1; b=2"),
            ("Cookie", "c=3"),
        ],
    )

    headers = event["headers"]
    assert headers["accept"] == "text/html"
    assert headers["x-custom"] == "a,b"
    assert all(name == name.lower() for name in headers)
    assert "cookie" not in headers
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-amzn-trace-id"].startswith("Root=1-")


def test_query_parameters_are_decoded_and_repeats_comma_joined() -> None:
    raw = f"action=cancel_subscription&subscription_id={SUBSCRIPTION_ID}&x=1&x=2&empty=&q=a%20b"

    event = event_for("GET", f"/portal?{raw}")

    assert event["rawQueryString"] == raw
    assert event["queryStringParameters"] == {
        "action": "cancel_subscription",
        "subscription_id": SUBSCRIPTION_ID,
        "x": "1,2",
        "empty": "",
        "q": "a b",
    }


def test_sigv4_header_on_iam_route_becomes_iam_authorizer() -> None:
    event = event_for("GET", f"/customers/{CUSTOMER_ID}/portal", [("Authorization", SIGV4)])

    iam = event["requestContext"]["authorizer"]["iam"]
    assert iam["accessKey"] == "AKIAIOSFODNN7EXAMPLE"
    assert iam["userArn"] == "arn:aws:iam::123456789012:user/local-sigv4-caller"
    assert iam["accountId"] == "123456789012"
    APIGatewayProxyEventV2Model.model_validate(event)


def test_bearer_jwt_on_jwt_route_becomes_string_claims_without_verification() -> None:
    token = unsigned_jwt(
        {
            "custom:paddle_customer_id": CUSTOMER_ID,
            "exp": 1_700_000_000,
            "email_verified": True,
            "groups": ["a", "b"],
            "address": {"country": "DE"},
        }
    )

    event = event_for("GET", "/portal", [("Authorization", f"Bearer {token}")])

    assert token.endswith(".")  # alg none, no signature: only this local gateway accepts it
    assert event["requestContext"]["authorizer"] == {
        "jwt": {
            "claims": {
                "custom:paddle_customer_id": CUSTOMER_ID,
                "exp": "1700000000",
                "email_verified": "true",
                "groups": "[a b]",
                "address": '{"country":"DE"}',
            },
            "scopes": None,
        }
    }
    APIGatewayProxyEventV2Model.model_validate(event)


@pytest.mark.parametrize(
    ("path", "authorization"),
    [
        pytest.param("/portal", None, id="jwt-route-no-header"),
        pytest.param("/portal", "Bearer not-a-jwt", id="jwt-one-part"),
        pytest.param("/portal", "Bearer a.!!!.c", id="jwt-payload-not-base64"),
        pytest.param("/portal", "Bearer a.WzFd.c", id="jwt-payload-not-object"),  # WzFd = base64("[1]")
        pytest.param("/portal", "Bearer a.b.c.d", id="jwt-four-parts"),
        pytest.param("/portal", SIGV4, id="sigv4-on-jwt-route"),
        pytest.param(f"/customers/{CUSTOMER_ID}/portal", None, id="iam-route-no-header"),
        pytest.param(f"/customers/{CUSTOMER_ID}/portal", "Bearer " + unsigned_jwt({"sub": "x"}), id="jwt-on-iam-route"),
        pytest.param(f"/customers/{CUSTOMER_ID}/portal", "AWS4-HMAC-SHA256 Signature=abc", id="sigv4-no-credential"),
        pytest.param(f"/customers/{CUSTOMER_ID}/portal", "Basic dXNlcjpwYXNz", id="basic-auth"),
        # The signed-link route has no authorizer, as deployed: no credential becomes an identity there.
        pytest.param("/links/portal?v=1", SIGV4, id="sigv4-on-link-route"),
        pytest.param(
            "/links/portal?v=1",
            "Bearer " + unsigned_jwt({"custom:paddle_customer_id": CUSTOMER_ID}),
            id="jwt-on-link-route",
        ),
    ],
)
def test_no_authorizer_when_the_route_type_of_credential_is_absent(path: str, authorization: str | None) -> None:
    headers = [("Authorization", authorization)] if authorization else []

    event = event_for("GET", path, headers)

    assert "authorizer" not in event["requestContext"]


def test_unknown_route_answers_like_api_gateway_without_calling_the_handler() -> None:
    calls: list[Any] = []

    response = invoke(lambda event, context: calls.append(event), HttpRequest("GET", "/nope?x=1", []))

    assert (response.status, json.loads(response.body)) == (404, {"message": "Not Found"})
    assert calls == []
    assert dict(response.headers)["Apigw-Requestid"]


def test_handler_result_becomes_the_http_answer() -> None:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {
            "statusCode": 302,
            "headers": {"Location": "https://customer-portal.paddle.com/x", "Cache-Control": "no-store"},
            "cookies": ["a=1; Secure", "b=2"],
            "body": base64.b64encode(b"\x00binary").decode(),
            "isBase64Encoded": True,
        }

    response = invoke(handler, HttpRequest("GET", "/portal", []))

    assert response.status == 302
    assert ("Location", "https://customer-portal.paddle.com/x") in response.headers
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1; Secure", "b=2"]
    assert response.body == b"\x00binary"


def test_result_without_status_code_is_a_200_json_answer_as_in_payload_2() -> None:
    response = invoke(lambda event, context: {"hello": "world"}, HttpRequest("GET", "/portal", []))

    assert (response.status, json.loads(response.body)) == (200, {"hello": "world"})


@pytest.mark.parametrize(
    "handler",
    [
        pytest.param(lambda event, context: 1 / 0, id="raises"),
        pytest.param(lambda event, context: {"statusCode": "abc"}, id="malformed-status"),
    ],
)
def test_failing_handler_is_a_bare_500_like_api_gateway(handler: Any) -> None:
    response = invoke(handler, HttpRequest("GET", "/portal", []))

    assert (response.status, json.loads(response.body)) == (500, {"message": "Internal Server Error"})


def test_handler_gets_a_lambda_context_that_counts_down(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    invoke(lambda event, context: seen.append(context) or {"statusCode": 204}, HttpRequest("GET", "/portal", []))
    context = seen[0]
    start = gateway.time.monotonic()

    assert 14_000 < context.get_remaining_time_in_millis() <= 15_000
    monkeypatch.setattr(gateway.time, "monotonic", lambda: start + 10)
    assert 4_000 < context.get_remaining_time_in_millis() <= 5_000
    monkeypatch.setattr(gateway.time, "monotonic", lambda: start + 60)
    assert context.get_remaining_time_in_millis() == 0
    assert uuid.UUID(context.aws_request_id)
    assert context.invoked_function_arn == f"arn:aws:lambda:us-east-1:123456789012:function:{context.function_name}"
    assert isinstance(LambdaContext().memory_limit_in_mb, str)  # as in the real Python runtime


# --- the HTTP plumbing, on a real socket ------------------------------------------------------------------------


@pytest.fixture
def echo() -> Iterator[tuple[server.GatewayServer, list[dict[str, Any]]]]:
    events: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "cookies": ["a=1", "b=2"],
            "body": json.dumps({"ok": True}),
        }

    gateway_server = server.GatewayServer(("127.0.0.1", 0), handler).start()
    yield gateway_server, events
    gateway_server.close()


def test_server_passes_requests_and_answers_over_one_keep_alive_connection(echo: Any) -> None:
    gateway_server, events = echo
    pool = urllib3.HTTPConnectionPool("127.0.0.1", gateway_server.server_address[1], maxsize=1)

    first = pool.request(
        "POST", "/portal-sessions", body=b'{"subscription_ids":[]}', headers={"Content-Type": "application/json"}
    )
    second = pool.request("GET", "/portal?action=overview")
    missing = pool.request("GET", "/nowhere")

    assert (first.status, first.json()) == (200, {"ok": True})
    assert second.status == 200
    assert first.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert base64.b64decode(events[0]["body"]) == b'{"subscription_ids":[]}'
    assert events[1]["queryStringParameters"] == {"action": "overview"}
    assert (missing.status, missing.json()) == (404, {"message": "Not Found"})
    assert pool.num_connections == 1
    assert len(events) == 2


def test_server_reads_chunked_bodies(echo: Any) -> None:
    gateway_server, events = echo

    response = urllib3.PoolManager().request(
        "POST", f"{gateway_server.url}/portal-sessions", body=iter([b'{"subscription_ids":', b"[]}"]), chunked=True
    )

    assert response.status == 200
    assert base64.b64decode(events[0]["body"]) == b'{"subscription_ids":[]}'


def test_server_refuses_bodies_over_the_payload_quota(echo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    gateway_server, events = echo
    monkeypatch.setattr(server, "MAX_BODY_BYTES", 8)

    response = urllib3.request("POST", f"{gateway_server.url}/portal-sessions", body=b"0123456789")

    assert response.status == 413
    assert events == []
