"""The local API Gateway stand-in: event translation, authorizer context, answers, and the HTTP plumbing.

Run against stub handlers (the handler is an argument), so these tests pin the gateway, not the function. The
authorizers themselves are tested in test_authorizers.py and, with moto's user pool, in test_local_auth.py.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import urllib3
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local import gateway, server
from local.authorizers import IamAuthorizer, IamCaller
from local.gateway import Authorizers, Cors, HttpRequest, LambdaContext, build_event, invoke, match_route
from paddle_portal.http_api.auth import Auth
from paddle_portal.http_api.routes import ROUTES as FUNCTION_ROUTES
from tests.support import CUSTOMER_ID, SUBSCRIPTION_ID
from tests.template import load_template

NOW = 1_700_000_000.5
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "FAKE-secret-key-of-the-gateway-tests"
CALLER = IamCaller(SECRET_KEY, "arn:aws:iam::123456789012:user/tester", "AIDATESTER", "123456789012")
# IAM routes with one known key; no JWT authorizer, so the JWT routes do not exist (as without JwtIssuer).
AUTHORIZERS = Authorizers(iam=IamAuthorizer({ACCESS_KEY: CALLER}, "us-east-1"))
LINK = "/links/portal?v=1"  # the route without an authorizer: handler plumbing is tested there


def signed(method: str, url: str, body: bytes = b"") -> dict[str, str]:
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "execute-api", "us-east-1").add_auth(request)
    return {"Host": urlsplit(url).netloc, **request.headers}  # botocore signs the URL's host; send the same


def event_for(method: str, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b"") -> Any:
    request = HttpRequest(method, target, headers or [("Host", "127.0.0.1:3000")], body)
    found = match_route(method, target.partition("?")[0])
    assert found is not None, f"{method} {target} should match a route"
    return build_event(request, *found, request_id="req-1", now=NOW)


@pytest.mark.parametrize("route_key", [route.key for route in gateway.routes()])  # each is the function's too (below)
def test_each_route_matches_its_path(route_key: str) -> None:
    method, template = route_key.split(" ")
    path = template.replace("{customer_id}", CUSTOMER_ID)

    found = match_route(method, path)

    assert found is not None
    assert (found[0].key, found[1]) == (route_key, {"customer_id": CUSTOMER_ID} if "{" in template else {})


def test_path_parameter_is_url_decoded() -> None:
    found = match_route("GET", "/customers/ctm%5Fx/portal")

    assert found is not None
    assert (found[0].key, found[1]) == ("GET /customers/{customer_id}/portal", {"customer_id": "ctm_x"})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("POST", "/links/portal", id="post-on-link-route"),
        pytest.param("GET", "/portal-sessions", id="wrong-method"),
        pytest.param("POST", "/portal", id="post-on-get-route"),
        pytest.param("GET", "/portal/", id="trailing-slash"),
        pytest.param("GET", "/customers//portal", id="empty-parameter"),
        pytest.param("GET", "/customers/a/b/portal", id="parameter-spans-segments"),
        pytest.param("GET", "/", id="root"),
    ],
)
def test_other_paths_match_no_route(method: str, path: str) -> None:
    assert match_route(method, path) is None


def test_event_is_a_valid_http_api_v2_event_with_base64_body() -> None:
    body = json.dumps({"subscription_ids": [SUBSCRIPTION_ID]}).encode()

    event = event_for(
        "POST",
        f"/customers/{CUSTOMER_ID}/portal-sessions?x=1",
        [("Host", "127.0.0.1:3000"), ("User-Agent", "curl/8")],
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


def test_the_authorizer_context_goes_into_the_event_as_given() -> None:
    request = HttpRequest("GET", "/portal", [("Host", "127.0.0.1:3000")])
    found = match_route("GET", "/portal")
    assert found is not None
    claims = {"custom:paddle_customer_id": CUSTOMER_ID, "email_verified": "true"}

    event = build_event(request, *found, authorizer={"jwt": {"claims": claims, "scopes": None}}, now=NOW)

    assert event["requestContext"]["authorizer"] == {"jwt": {"claims": claims, "scopes": None}}
    APIGatewayProxyEventV2Model.model_validate(event)


def test_iam_route_passes_a_signed_request_with_the_callers_identity() -> None:
    events: list[dict[str, Any]] = []
    url = f"http://127.0.0.1:3000/customers/{CUSTOMER_ID}/portal"

    response = invoke(
        lambda event, context: events.append(event) or {"statusCode": 204},
        HttpRequest("GET", url.removeprefix("http://127.0.0.1:3000"), list(signed("GET", url).items())),
        AUTHORIZERS,
    )

    assert response.status == 204
    iam = events[0]["requestContext"]["authorizer"]["iam"]
    assert (iam["accessKey"], iam["userArn"], iam["accountId"]) == (ACCESS_KEY, CALLER.user_arn, "123456789012")
    APIGatewayProxyEventV2Model.model_validate(events[0])


@pytest.mark.parametrize(
    ("method", "target", "headers", "status", "message"),
    [
        pytest.param("GET", f"/customers/{CUSTOMER_ID}/portal", [], 403, "Forbidden", id="iam-unsigned"),
        pytest.param("POST", "/portal-sessions", [], 404, "Not Found", id="jwt-route-without-jwt-authorizer"),
    ],
)
def test_refused_requests_never_reach_the_handler(
    method: str, target: str, headers: list[tuple[str, str]], status: int, message: str
) -> None:
    calls: list[Any] = []

    response = invoke(lambda event, context: calls.append(event), HttpRequest(method, target, headers), AUTHORIZERS)

    assert (response.status, json.loads(response.body)) == (status, {"message": message})
    assert calls == []


def test_link_route_has_no_authorizer_whatever_the_request_carries() -> None:
    events: list[dict[str, Any]] = []
    url = f"http://127.0.0.1:3000{LINK}"

    invoke(
        lambda event, context: events.append(event) or {"statusCode": 204},
        HttpRequest("GET", LINK, [*signed("GET", url).items(), ("Authorization", "Bearer a.b.c")]),
        AUTHORIZERS,
    )

    assert "authorizer" not in events[0]["requestContext"]


def test_unknown_route_answers_like_api_gateway_without_calling_the_handler() -> None:
    calls: list[Any] = []

    response = invoke(lambda event, context: calls.append(event), HttpRequest("GET", "/nope?x=1", []), AUTHORIZERS)

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

    response = invoke(handler, HttpRequest("GET", LINK, []), AUTHORIZERS)

    assert response.status == 302
    assert ("Location", "https://customer-portal.paddle.com/x") in response.headers
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1; Secure", "b=2"]
    assert response.body == b"\x00binary"


def test_result_without_status_code_is_a_200_json_answer_as_in_payload_2() -> None:
    response = invoke(lambda event, context: {"hello": "world"}, HttpRequest("GET", LINK, []), AUTHORIZERS)

    assert (response.status, json.loads(response.body)) == (200, {"hello": "world"})


@pytest.mark.parametrize(
    "handler",
    [
        pytest.param(lambda event, context: 1 / 0, id="raises"),
        pytest.param(lambda event, context: {"statusCode": "abc"}, id="malformed-status"),
    ],
)
def test_failing_handler_is_a_bare_500_like_api_gateway(handler: Any) -> None:
    response = invoke(handler, HttpRequest("GET", LINK, []), AUTHORIZERS)

    assert (response.status, json.loads(response.body)) == (500, {"message": "Internal Server Error"})


def test_handler_gets_a_lambda_context_that_counts_down(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    invoke(
        lambda event, context: seen.append(context) or {"statusCode": 204}, HttpRequest("GET", LINK, []), AUTHORIZERS
    )
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


# --- CORS, as the template configures it on the HTTP API -----------------------------------------------------------

APP = "http://127.0.0.1:8100"  # an allowed page origin
CORS = Cors((APP,))


def preflight(origin: str, method: str = "POST", target: str = "/portal-links") -> HttpRequest:
    headers = [("Origin", origin), ("Access-Control-Request-Method", method)]
    return HttpRequest("OPTIONS", target, [*headers, ("Access-Control-Request-Headers", "authorization,content-type")])


def test_local_cors_is_the_templates() -> None:
    body = load_template()["Resources"]["PortalHttpApi"]["Properties"]["DefinitionBody"]
    condition, (_has_cors, configured, _none) = next(iter(body["x-amazon-apigateway-cors"].items()))
    assert condition == "Fn::If"
    assert configured["allowOrigins"] == {"Ref": "CorsAllowedOrigins"}  # the one parameter: Cors.allow_origins
    assert (configured["allowMethods"], configured["allowHeaders"], configured["maxAge"]) == (
        list(CORS.allow_methods),
        list(CORS.allow_headers),
        CORS.max_age,
    )
    assert set(configured) == {"allowOrigins", "allowMethods", "allowHeaders", "maxAge"}  # no credentials, no expose


def test_local_routes_are_the_functions() -> None:
    auth = {"AWS_IAM": Auth.IAM, "JWT": Auth.JWT, "NONE": Auth.LINK}
    local = {(route.method, route.path, auth[route.auth]) for route in gateway.routes()}
    assert local == {(route.method, route.template, route.auth) for route in FUNCTION_ROUTES}


def test_preflight_from_an_allowed_origin_is_answered_by_the_gateway() -> None:
    calls: list[Any] = []

    response = invoke(lambda event, context: calls.append(event), preflight(APP), AUTHORIZERS, cors=CORS)

    assert (response.status, response.body, calls) == (204, b"", [])
    headers = dict(response.headers)
    assert headers["Access-Control-Allow-Origin"] == APP
    assert headers["Access-Control-Allow-Methods"] == "GET,POST"
    assert headers["Access-Control-Allow-Headers"] == "authorization,content-type"
    assert headers["Access-Control-Max-Age"] == "600"


@pytest.mark.parametrize(
    "origin", ["http://127.0.0.1:8101", "http://localhost:8100", "https://127.0.0.1:8100", "null", APP + ".evil.test"]
)
def test_preflight_from_another_origin_gets_no_cors_headers(origin: str) -> None:
    response = invoke(lambda event, context: None, preflight(origin), AUTHORIZERS, cors=CORS)

    assert response.status == 204
    assert not [name for name, _ in response.headers if name.lower().startswith("access-control-")]


def test_answers_carry_the_gateways_cors_headers_for_allowed_origins_only() -> None:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        # The function's own CORS headers are ignored, as API Gateway ignores an integration's.
        return {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*"}, "body": "{}"}

    allowed = invoke(handler, HttpRequest("GET", LINK, [("Origin", APP)]), AUTHORIZERS, cors=CORS)
    other = invoke(handler, HttpRequest("GET", LINK, [("Origin", "https://evil.test")]), AUTHORIZERS, cors=CORS)
    refused = invoke(
        handler, HttpRequest("POST", "/customers/x/portal-sessions", [("Origin", APP)]), AUTHORIZERS, cors=CORS
    )

    assert [v for k, v in allowed.headers if k == "Access-Control-Allow-Origin"] == [APP]
    assert not [k for k, _ in other.headers if k.lower().startswith("access-control-")]
    assert refused.status == 403  # the gateway's own refusals carry them too, so a page can read why
    assert dict(refused.headers)["Access-Control-Allow-Origin"] == APP


def test_without_cors_origins_there_is_no_cors_at_all() -> None:
    assert Cors.from_setting(" , ") is None
    assert Cors.from_setting("https://a.example, https://b.example/") == Cors(
        ("https://a.example", "https://b.example")
    )

    response = invoke(lambda event, context: None, preflight(APP), AUTHORIZERS)

    assert response.status == 404  # no OPTIONS route, and nobody answers preflights


@pytest.mark.parametrize(
    ("allowed", "origin", "answered"),
    [("*", "https://any.example", "*"), ("https://*", "https://any.example", "https://any.example")],
)
def test_wildcard_origins(allowed: str, origin: str, answered: str) -> None:
    response = invoke(lambda event, context: None, preflight(origin), AUTHORIZERS, cors=Cors((allowed,)))

    assert dict(response.headers)["Access-Control-Allow-Origin"] == answered
    assert not Cors(("https://*",)).allows("http://any.example")


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

    gateway_server = server.GatewayServer(("127.0.0.1", 0), handler, AUTHORIZERS).start()
    yield gateway_server, events
    gateway_server.close()


def test_server_passes_requests_and_answers_over_one_keep_alive_connection(echo: Any) -> None:
    gateway_server, events = echo
    pool = urllib3.HTTPConnectionPool("127.0.0.1", gateway_server.server_address[1], maxsize=1)
    path = f"/customers/{CUSTOMER_ID}/portal-sessions"
    body = b'{"subscription_ids":[]}'

    first = pool.request("POST", path, body=body, headers=signed("POST", f"{gateway_server.url}{path}", body))
    second = pool.request("GET", "/links/portal?action=overview")
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

    url = f"{gateway_server.url}/customers/{CUSTOMER_ID}/portal-sessions"
    headers = signed("POST", url, b'{"subscription_ids":[]}')

    response = urllib3.PoolManager().request(
        "POST", url, body=iter([b'{"subscription_ids":', b"[]}"]), chunked=True, headers=headers
    )

    assert response.status == 200
    assert base64.b64decode(events[0]["body"]) == b'{"subscription_ids":[]}'


def test_server_refuses_bodies_over_the_payload_quota(echo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    gateway_server, events = echo
    monkeypatch.setattr(server, "MAX_BODY_BYTES", 8)

    response = urllib3.request("POST", f"{gateway_server.url}/customers/{CUSTOMER_ID}/portal-links", body=b"0123456789")

    assert response.status == 413
    assert events == []
