"""The local API Gateway stand-in: routes, the v2 event it builds, its authorizers in front of the handler, the
answer it makes of the handler's result, CORS as the template configures it, and the HTTP plumbing. Stub handlers
(the handler is an argument): these pin the gateway, not the function."""

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
from local.authorizers import IamAuthorizer, IamCaller, JwtAuthorizer
from local.gateway import Authorizers, Cors, HttpRequest, LambdaContext, build_event, invoke, match_route
from tests.support import CUSTOMER_ID, SUBSCRIPTION_ID, sigv4_headers
from tests.template import load_template

ACCESS_KEY, SECRET_KEY = "AKIAIOSFODNN7EXAMPLE", "FAKE-secret-key-of-the-gateway-tests"
CALLER = IamCaller(SECRET_KEY, "arn:aws:iam::123456789012:user/tester", "AIDATESTER", "123456789012")
IAM = IamAuthorizer({ACCESS_KEY: CALLER}, "us-east-1")
JWT = JwtAuthorizer("https://issuer.example", ["client"], {"keys": []})  # knows no key: every token is refused
LINK, APP = "/links/portal?v=1", "http://127.0.0.1:8100"  # the route without an authorizer; an allowed page origin
CORS = Cors((APP,))


def signed(method: str, target: str, body: bytes = b"") -> list[tuple[str, str]]:
    url = f"http://127.0.0.1:3000{target}"
    return [("Host", "127.0.0.1:3000"), *sigv4_headers(method, url, body, ACCESS_KEY, SECRET_KEY).items()]


class Spy:
    """A handler that records its events and answers `result`."""

    def __init__(self, result: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.result = {"statusCode": 204} if result is None else result

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        return self.result(event) if callable(self.result) else self.result


@pytest.mark.parametrize(
    ("method", "path", "route", "parameters"),
    [(r.method, r.path.replace("{customer_id}", "ctm%5Fx"), r.key, {"customer_id": "ctm_x"} if "{" in r.path else {})
     for r in gateway.routes()]  # each route of the function (a path parameter arrives URL-decoded)
    + [(method, path, None, None) for method, path in [("POST", "/links/portal"), ("GET", "/portal-sessions"),
       ("GET", "/portal/"), ("GET", "/customers//portal"), ("GET", "/customers/a/b/portal"), ("GET", "/")]],
)  # fmt: skip
def test_requests_match_the_functions_routes_only(method: str, path: str, route: str | None, parameters: Any) -> None:
    found = match_route(method, path)

    assert (found and (found[0].key, found[1])) == (route and (route, parameters))


def test_the_event_is_a_valid_http_api_v2_event() -> None:
    raw_query = f"action=cancel_subscription&subscription_id={SUBSCRIPTION_ID}&x=1&x=2&empty=&q=a%20b"
    headers = [("Host", "127.0.0.1:3000"), ("User-Agent", "curl/8"), ("X-Custom", "a"), ("x-custom", "b"),
               ("Cookie", "a=1; b=2"), ("Cookie", "c=3")]  # fmt: skip
    request = HttpRequest("POST", f"/customers/{CUSTOMER_ID}/portal-sessions?{raw_query}", headers, b'{"a":1}')
    found = match_route("POST", f"/customers/{CUSTOMER_ID}/portal-sessions")
    assert found is not None

    event = build_event(request, *found, request_id="req-1", now=1_700_000_000.5)

    parsed = APIGatewayProxyEventV2Model.model_validate(event)  # Powertools' model of the real thing
    assert parsed.routeKey == event["requestContext"]["routeKey"] == "POST /customers/{customer_id}/portal-sessions"
    assert (event["isBase64Encoded"], base64.b64decode(event["body"])) == (True, b'{"a":1}')
    assert event["pathParameters"] == {"customer_id": CUSTOMER_ID}
    assert event["rawQueryString"] == raw_query
    assert event["queryStringParameters"] == {"action": "cancel_subscription", "subscription_id": SUBSCRIPTION_ID,
                                              "x": "1,2", "empty": "", "q": "a b"}  # fmt: skip
    assert (event["headers"]["x-custom"], event["cookies"]) == ("a,b", ["a=1", "b=2", "c=3"])
    assert ("cookie" in event["headers"], event["headers"]["x-amzn-trace-id"][:7]) == (False, "Root=1-")
    context = event["requestContext"]
    assert context["http"] == {"method": "POST", "path": f"/customers/{CUSTOMER_ID}/portal-sessions",
                               "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "curl/8"}  # fmt: skip
    assert (context["stage"], context["requestId"], context["domainName"]) == ("$default", "req-1", "127.0.0.1:3000")
    assert (context["timeEpoch"], context["time"]) == (1_700_000_000_500, "14/Nov/2023:22:13:20 +0000")
    bare = build_event(HttpRequest("GET", "/portal", []), *match_route("GET", "/portal"))  # type: ignore[misc]
    assert not {"body", "queryStringParameters", "pathParameters", "cookies"} & set(bare)


@pytest.mark.parametrize(
    ("method", "target", "headers", "status", "message", "authorizer"),
    [
        pytest.param("GET", f"/customers/{CUSTOMER_ID}/portal", "signed", 204, None, "iam", id="iam-signed"),
        pytest.param("GET", f"/customers/{CUSTOMER_ID}/portal", [], 403, "Forbidden", None, id="iam-unsigned"),
        pytest.param("POST", "/portal-sessions", [("Authorization", "Bearer a.b.c")], 401, "Unauthorized", None,
                     id="jwt-refused"),
        pytest.param("GET", LINK, "signed+bearer", 204, None, None, id="link-route-has-no-authorizer"),
        pytest.param("GET", "/nope?x=1", [], 404, "Not Found", None, id="unknown-route"),
    ],
)  # fmt: skip
def test_each_route_runs_its_authorizer_and_a_refused_request_never_reaches_the_handler(
    method: str, target: str, headers: Any, status: int, message: str | None, authorizer: str | None
) -> None:
    if isinstance(headers, str):
        headers = signed(method, target) + ([("Authorization", "Bearer a.b.c")] if "bearer" in headers else [])
    spy = Spy()

    response = invoke(spy, HttpRequest(method, target, headers), Authorizers(iam=IAM, jwt=JWT))

    assert response.status == status
    assert dict(response.headers)["Apigw-Requestid"]
    if message is not None:
        assert (json.loads(response.body), spy.events) == ({"message": message}, [])
        return
    [event] = spy.events
    APIGatewayProxyEventV2Model.model_validate(event)
    assert event["requestContext"].get("authorizer", {}).keys() == ({authorizer} if authorizer else set())
    if authorizer == "iam":
        iam = event["requestContext"]["authorizer"]["iam"]
        assert (iam["accessKey"], iam["userArn"], iam["accountId"]) == (ACCESS_KEY, CALLER.user_arn, "123456789012")


def test_without_a_jwt_authorizer_the_jwt_routes_do_not_exist() -> None:
    response = invoke(Spy(), HttpRequest("POST", "/portal-sessions", []), Authorizers(iam=IAM))

    assert (response.status, json.loads(response.body)) == (404, {"message": "Not Found"})


@pytest.mark.parametrize(
    ("result", "status", "headers", "body"),
    [
        pytest.param({"statusCode": 302, "headers": {"Location": "https://x.example/"}, "cookies": ["a=1", "b=2"],
                      "body": base64.b64encode(b"\x00").decode(), "isBase64Encoded": True}, 302,
                     [("Location", "https://x.example/"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")], b"\x00",
                     id="redirect-cookies-base64"),
        pytest.param({"hello": "world"}, 200, [("Content-Type", "application/json")], b'{"hello": "world"}',
                     id="no-status-code-is-200-json"),
        pytest.param(lambda event: 1 / 0, 500, [], b'{"message": "Internal Server Error"}', id="handler-raises"),
        pytest.param({"statusCode": "abc"}, 500, [], b'{"message": "Internal Server Error"}', id="malformed-status"),
    ],
)  # fmt: skip
def test_the_handlers_result_becomes_the_http_answer_as_in_payload_2(
    result: Any, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    response = invoke(Spy(result), HttpRequest("GET", LINK, []), Authorizers(iam=IAM))

    assert (response.status, response.body) == (status, body)
    assert set(headers) <= set(response.headers)


def test_the_handler_gets_a_lambda_context_that_counts_down(monkeypatch: pytest.MonkeyPatch) -> None:
    contexts: list[Any] = []
    invoke(lambda event, context: contexts.append(context), HttpRequest("GET", LINK, []), Authorizers(iam=IAM))
    [context], start = contexts, gateway.time.monotonic()

    assert 14_000 < context.get_remaining_time_in_millis() <= 15_000
    monkeypatch.setattr(gateway.time, "monotonic", lambda: start + 10)
    assert 4_000 < context.get_remaining_time_in_millis() <= 5_000
    monkeypatch.setattr(gateway.time, "monotonic", lambda: start + 60)
    assert context.get_remaining_time_in_millis() == 0
    assert uuid.UUID(context.aws_request_id)
    assert context.invoked_function_arn == f"arn:aws:lambda:us-east-1:123456789012:function:{context.function_name}"
    assert isinstance(LambdaContext().memory_limit_in_mb, str)  # as in the real Python runtime


# --- CORS, as the template configures it on the HTTP API


def preflight(origin: str) -> HttpRequest:
    headers = [("Origin", origin), ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "a")]
    return HttpRequest("OPTIONS", "/portal-links", headers)


def test_local_cors_is_the_templates() -> None:
    [api] = [r["Properties"] for r in load_template()["Resources"].values() if r["Type"] == "AWS::Serverless::HttpApi"]
    [configured] = [b for b in api["DefinitionBody"]["x-amazon-apigateway-cors"]["Fn::If"][1:] if "allowOrigins" in b]
    spy = Spy()

    response = invoke(spy, preflight(APP), Authorizers(iam=IAM), cors=CORS)

    assert configured == {"allowOrigins": {"Ref": "CorsAllowedOrigins"}, "allowMethods": list(CORS.allow_methods),
                          "allowHeaders": list(CORS.allow_headers), "maxAge": CORS.max_age}  # fmt: skip
    assert (Cors.from_setting(" , "), Cors.from_setting("https://a.test, https://b.test/")) == (
        None, Cors(("https://a.test", "https://b.test")))  # fmt: skip
    # A preflight from an allowed origin is answered by the gateway with them: the function never sees it
    assert (response.status, response.body, spy.events) == (204, b"", [])
    assert set(response.headers) >= {("Access-Control-Allow-Origin", APP), ("Access-Control-Allow-Methods", "GET,POST"),
        ("Access-Control-Allow-Headers", "authorization,content-type"), ("Access-Control-Max-Age", "600")}  # fmt: skip


@pytest.mark.parametrize(
    "origin", ["http://127.0.0.1:8101", "http://localhost:8100", "https://127.0.0.1:8100", "null", APP + ".evil.test"]
)
def test_preflight_from_another_origin_gets_no_cors_headers(origin: str) -> None:
    response = invoke(Spy(), preflight(origin), Authorizers(iam=IAM), cors=CORS)

    assert response.status == 204
    assert [name for name, _ in response.headers if name.lower().startswith("access-control-")] == []


@pytest.mark.parametrize(
    ("cors", "method", "target", "origin", "status", "allowed"),
    [
        pytest.param(CORS, "GET", LINK, APP, 200, APP, id="allowed-origin"),
        pytest.param(CORS, "GET", LINK, "https://evil.test", 200, None, id="other-origin"),
        pytest.param(CORS, "POST", "/customers/x/portal-sessions", APP, 403, APP, id="gateway-refusal-readable-too"),
        pytest.param(Cors(("*",)), "GET", LINK, "https://any.example", 200, "*", id="any-origin"),
        pytest.param(Cors(("https://*",)), "GET", LINK, "https://any.example", 200, "https://any.example", id="https"),
        pytest.param(Cors(("https://*",)), "GET", LINK, "http://any.example", 200, None, id="https-only"),
        pytest.param(None, "OPTIONS", "/portal-links", APP, 404, None, id="no-cors-no-preflight"),
    ],
)  # fmt: skip
def test_answers_carry_the_gateways_cors_headers_for_allowed_origins_only(
    cors: Cors | None, method: str, target: str, origin: str, status: int, allowed: str | None
) -> None:
    # The function's own CORS headers are dropped, as API Gateway ignores an integration's
    spy = Spy({"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*"}, "body": "{}"})
    request = HttpRequest(method, target, [("Origin", origin), ("Access-Control-Request-Method", "POST")])

    response = invoke(spy, request, Authorizers(iam=IAM), cors=cors)

    assert response.status == status
    assert [v for k, v in response.headers if k.lower().startswith("access-control-")] == ([allowed] if allowed else [])


# --- the HTTP plumbing, on a real socket


@pytest.fixture
def echo() -> Iterator[tuple[server.GatewayServer, Spy]]:
    spy = Spy(
        {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "cookies": ["a=1", "b=2"], "body": "{}"}
    )
    gateway_server = server.GatewayServer(("127.0.0.1", 0), spy, Authorizers(iam=IAM)).start()
    yield gateway_server, spy
    gateway_server.close()


def test_requests_and_answers_pass_over_one_keep_alive_connection(echo: Any) -> None:
    gateway_server, spy = echo
    pool = urllib3.HTTPConnectionPool("127.0.0.1", gateway_server.server_address[1], maxsize=1)
    path, body = f"/customers/{CUSTOMER_ID}/portal-sessions", b'{"subscription_ids":[]}'
    headers = sigv4_headers("POST", f"{gateway_server.url}{path}", body, ACCESS_KEY, SECRET_KEY)

    answers = [pool.request("POST", path, body=body, headers=headers), pool.request("GET", "/links/portal?a=b"),
               pool.request("GET", "/nowhere"), *(pool.request(m, path) for m in ("PUT", "DELETE", "PATCH", "TRACE")),
               pool.request("POST", path, body=iter([body[:5], body[5:]]), chunked=True, headers=headers)]  # fmt: skip

    assert [a.status for a in answers] == [200, 200, *[404] * 5, 200]
    assert [json.loads(a.data) for a in answers[2:-1]] == [{"message": "Not Found"}] * 5  # as API Gateway answers
    assert answers[0].headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert [base64.b64decode(e.get("body", "")) for e in spy.events] == [body, b"", body]
    assert spy.events[1]["queryStringParameters"] == {"a": "b"}
    assert pool.num_connections == 1


def test_bodies_over_the_payload_quota_are_refused(echo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    gateway_server, spy = echo
    monkeypatch.setattr(server, "MAX_BODY_BYTES", 8)

    response = urllib3.request("POST", f"{gateway_server.url}/customers/{CUSTOMER_ID}/portal-links", body=b"0123456789")

    assert (response.status, spy.events) == (413, [])
