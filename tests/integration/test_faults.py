"""Fault injection over real sockets: the real handler, the real urllib3 client, Paddle played by `FaultServer`.

Every test asserts the caller's final status and code, the attempts Paddle saw, that the whole invocation stayed
within its deadline (a generous upper bound, never an exact timing) and how often Secrets Manager (moto) was read.
Backoff jitter is pinned (`jitter` fixture): pauses are a tenth of the policy's delays, which the fixture records.
"""

from __future__ import annotations

import email.utils
import io
import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from paddle_portal import secrets
from paddle_portal.paddle import client as paddle
from paddle_portal.paddle import retry_policy
from paddle_portal.paddle.retry_policy import (
    equal_jitter as real_equal_jitter,  # bound before the `jitter` fixture pins it
)
from tests.events import load_event
from tests.faultserver import OK, SESSION, FaultServer, Reply, Request
from tests.support import (
    API_KEY,
    CUSTOMER_ID,
    ROTATED_API_KEY,
    SECRET_ID,
    SUBSCRIPTION_ID,
    LambdaContext,
    SecretsManagerCalls,
    paddle_error,
    portal_session,
)
from tests.template import load_template

BUDGET = 1.0  # PADDLE_REQUEST_BUDGET_SECONDS in this module unless a test says otherwise
SHORT = 0.5  # the budget of tests that spend all of it
SLACK = 0.3  # what an invocation may take beyond its deadline (logging, moto, thread scheduling)
BAD_KEY = "pdl_sdbx_apikey_01gtgztp8f4kek3yd4g1wrksa3_FAKEFAKEFAKEFAKEFAKE_XXX"
OTHER_BAD_KEY = "pdl_sdbx_apikey_01gtgztp8f4kek3yd4g1wrksa3_FAKEFAKEFAKEFAKEFAKE_YYY"


@dataclass(frozen=True)
class Outcome:
    status: int
    headers: dict[str, str]
    body: Any
    elapsed: float

    @property
    def code(self) -> str | None:
        return self.body["error"]["code"] if isinstance(self.body, dict) and "error" in self.body else None


@pytest.fixture(autouse=True)
def budget(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setenv("PADDLE_REQUEST_BUDGET_SECONDS", str(BUDGET))
    return BUDGET


@pytest.fixture(autouse=True)
def jitter(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Pins the backoff jitter: records each delay the policy asks for and pauses a tenth of it."""
    asked: list[float] = []

    def pinned(delay: float) -> float:
        asked.append(delay)
        return delay / 10

    monkeypatch.setattr(retry_policy, "equal_jitter", pinned)
    return asked


@pytest.fixture
def call(aws: SecretsManagerCalls, server: FaultServer, context: LambdaContext) -> Callable[..., Outcome]:
    """One API Gateway (HTTP API) POST through the real handler, timed."""
    from paddle_portal.app import lambda_handler

    def invoke() -> Outcome:
        event = load_event("http_api/post_portal_sessions_iam.json")
        started = time.monotonic()
        response = lambda_handler(event, context)
        elapsed = time.monotonic() - started
        body = json.loads(response["body"]) if response.get("body") else None
        return Outcome(response["statusCode"], response["headers"], body, elapsed)

    return invoke


@pytest.fixture
def log_text() -> Iterator[Callable[[], str]]:
    """What the function's Powertools Logger wrote (JSON lines, as CloudWatch would get them)."""
    from paddle_portal.observability import logger

    handler = logger.registered_handler
    stream = io.StringIO()
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream.getvalue
    handler.setStream(previous)  # type: ignore[attr-defined]


def within_deadline(outcome: Outcome, seconds: float = BUDGET) -> bool:
    return outcome.elapsed <= seconds + SLACK


def assert_created(outcome: Outcome) -> None:
    assert outcome.status == 201, outcome.body
    assert outcome.body == {"data": SESSION["data"], "meta": {"request_id": SESSION["meta"]["request_id"]}}


def assert_error(outcome: Outcome, status: int, code: str) -> None:
    assert (outcome.status, outcome.code) == (status, code), outcome.body
    assert ("Retry-After" in outcome.headers) is (status == 429)


def gaps(requests: list[Request]) -> list[float]:
    return [later.at - earlier.at for earlier, later in itertools.pairwise(requests)]


def bearer(request: Request) -> str:
    return request.headers["authorization"].removeprefix("Bearer ")


def warm_up(call: Callable[[], Outcome], server: FaultServer) -> None:
    """One invocation, then forget what the server saw: the environment is warm (key cached, pool built).

    Tests that spend their whole budget start warm: a cold Secrets Manager read through moto takes 0.1-0.4 s on a busy
    machine, time the deadline counts, which would make them flaky."""
    call()
    server.requests.clear()


@pytest.fixture
def warm(
    call: Callable[[], Outcome], server: FaultServer, aws: SecretsManagerCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm environment whose budget is SHORT."""
    monkeypatch.setenv("PADDLE_REQUEST_BUDGET_SECONDS", str(SHORT))
    warm_up(call, server)
    assert aws.get_secret_value == 1


# --- retries on status ----------------------------------------------------------------------------------------

RETRYABLE = [500, 502, 503, 504, 429]


@pytest.mark.parametrize("status", RETRYABLE)
def test_retryable_status_then_success(call, server, aws, jitter, status):
    server.script(Reply.json(status, paddle_error("internal_error", type_="api_error")))

    outcome = call()

    assert_created(outcome)
    assert len(server.requests) == 2
    assert jitter == [0.2]  # one capped exponential pause, jittered
    assert gaps(server.requests)[0] >= 0.02
    assert within_deadline(outcome)
    assert aws.get_secret_value == 1


@pytest.mark.parametrize(
    ("status", "final_status", "final_code"),
    [
        (500, 502, "bad_gateway"),
        (502, 502, "bad_gateway"),
        (503, 502, "bad_gateway"),
        (504, 502, "bad_gateway"),
        (429, 429, "too_many_requests"),
    ],
)
def test_retryable_status_every_time_gives_up_after_three_attempts(
    call, server, aws, jitter, status, final_status, final_code
):
    server.default = Reply.json(status, paddle_error("too_many_requests" if status == 429 else "internal_error"))

    outcome = call()

    assert_error(outcome, final_status, final_code)
    assert len(server.requests) == 3
    assert jitter == [0.2, 0.4]
    assert within_deadline(outcome)
    assert aws.get_secret_value == 1
    if status == 429:  # Paddle named no Retry-After: the caller is told to wait a minute's worth
        assert outcome.headers["Retry-After"] == "10"


@pytest.mark.parametrize(
    ("status", "body", "final_status", "final_code"),
    [
        (400, paddle_error("bad_request", errors=[{"field": "subscription_ids", "message": "x"}]), 400, "bad_request"),
        (404, paddle_error("not_found"), 404, "not_found"),
        (409, paddle_error("conflict"), 400, "conflict"),
        (501, paddle_error("not_implemented", type_="api_error"), 502, "bad_gateway"),
    ],
    ids=["400", "404", "409", "501"],
)
def test_other_statuses_are_not_retried(call, server, aws, status, body, final_status, final_code):
    server.script(Reply.json(status, body))

    outcome = call()

    assert_error(outcome, final_status, final_code)
    assert len(server.requests) == 1
    assert within_deadline(outcome)
    assert aws.get_secret_value == 1


# --- Retry-After ----------------------------------------------------------------------------------------------


def test_retry_after_seconds_is_honoured_when_it_fits(call, server, aws, monkeypatch):
    monkeypatch.setenv("PADDLE_REQUEST_BUDGET_SECONDS", "2")
    server.script(Reply.json(429, paddle_error("too_many_requests"), {"Retry-After": "1"}))

    outcome = call()

    assert_created(outcome)
    assert len(server.requests) == 2
    assert gaps(server.requests)[0] >= 1.0  # Paddle's 1 s, not our 0.02 s backoff
    assert within_deadline(outcome, 2)
    assert aws.get_secret_value == 1


def test_retry_after_http_date_is_honoured_when_it_fits(call, server, aws, monkeypatch):
    monkeypatch.setenv("PADDLE_REQUEST_BUDGET_SECONDS", "3")
    when = time.time() + 2
    server.script(
        Reply.json(429, paddle_error("too_many_requests"), {"Retry-After": email.utils.formatdate(when, usegmt=True)})
    )

    outcome = call()

    assert_created(outcome)
    assert len(server.requests) == 2
    assert gaps(server.requests)[0] >= 0.8  # the date has whole seconds: about 1 to 2 s ahead, not our 0.02 s
    assert within_deadline(outcome, 3)
    assert aws.get_secret_value == 1


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("30", 30), ("HTTP-date 120 s ahead", 120)],
    ids=["seconds", "http-date"],
)
def test_retry_after_beyond_the_deadline_goes_to_the_caller(call, server, aws, retry_after, expected):
    if retry_after.startswith("HTTP-date"):
        retry_after = email.utils.formatdate(time.time() + 120, usegmt=True)
    server.script(Reply.json(429, paddle_error("too_many_requests"), {"Retry-After": retry_after}))

    outcome = call()

    assert_error(outcome, 429, "too_many_requests")
    assert expected - 2 <= int(outcome.headers["Retry-After"]) <= expected
    assert len(server.requests) == 1  # no pointless wait, no attempt Paddle told us would fail
    assert outcome.elapsed < 0.5
    assert aws.get_secret_value == 1


def test_retry_after_on_503_is_honoured_too(call, server, aws):
    server.script(Reply.json(503, paddle_error("service_unavailable", type_="api_error"), {"Retry-After": "30"}))

    outcome = call()

    assert_error(outcome, 502, "bad_gateway")
    assert len(server.requests) == 1
    assert outcome.elapsed < 0.5
    assert aws.get_secret_value == 1


@pytest.mark.parametrize(
    "retry_after",
    ["soon", "-1", "1.5", "\xb2", "9" * 5000, "Thu, 99 Foo 2024 25:61:61 GMT"],
    ids=["word", "negative", "fraction", "superscript-digit", "5000-digits", "bad-date"],
)
def test_unreadable_retry_after_means_our_own_backoff(call, server, aws, jitter, retry_after):
    server.script(Reply.json(429, paddle_error("too_many_requests"), {"Retry-After": retry_after}))

    outcome = call()

    assert_created(outcome)
    assert len(server.requests) == 2
    assert jitter == [0.2]
    assert within_deadline(outcome)
    assert aws.get_secret_value == 1


# --- connections ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [Reply.reset(), Reply.drop(), Reply.raw(b"garbage\r\n\r\n"), Reply.raw(b"\x16\x03\x01 not http\r\n\r\n")],
    ids=["reset", "closed-without-answer", "garbage", "tls-bytes"],
)
@pytest.mark.parametrize("every_time", [False, True], ids=["once", "every-time"])
def test_broken_connection_is_retried_at_once_on_a_new_connection(call, server, aws, jitter, fault, every_time):
    # Given a connection that breaks once (then Paddle answers), or on every attempt
    if every_time:
        server.default = fault
    else:
        server.script(fault)

    outcome = call()

    # Then each retry opens a new connection; the first does not wait, the second waits the policy's second delay;
    # when every attempt breaks, the caller gets a 502 within the deadline
    if every_time:
        assert_error(outcome, 502, "bad_gateway")
        assert (len(server.requests), server.connections, jitter) == (3, 3, [0.4])
    else:
        assert_created(outcome)
        assert (len(server.requests), server.connections, jitter) == (2, 2, [])
    assert within_deadline(outcome)
    assert aws.get_secret_value == 1


def test_connection_refused_is_bad_gateway(call, server, aws, monkeypatch):
    with FaultServer() as gone:
        url = gone.url
    monkeypatch.setenv("PADDLE_API_BASE_URL", url)  # nothing listens there any more
    warm_up(call, server)

    outcome = call()

    assert_error(outcome, 502, "bad_gateway")  # not a timeout: urllib3's NewConnectionError is a ConnectTimeoutError
    assert len(server.requests) == 0
    assert outcome.elapsed < SLACK  # refused at once, three times, with a 0.04 s pause
    assert aws.get_secret_value == 1


def test_kept_alive_connection_closed_between_calls(call, server, aws):
    server.script(OK.with_(close_after=True))  # answers, then closes the idle keep-alive connection

    first = call()
    time.sleep(0.05)  # the environment is frozen between invocations; the close arrives meanwhile
    second = call()

    assert_created(first)
    assert_created(second)
    assert len(server.requests) == 2  # urllib3 saw the close: no failed attempt, just a new connection
    assert server.connections == 2
    assert within_deadline(second)
    assert aws.get_secret_value == 1


@pytest.mark.parametrize("fault", [Reply.drop(), Reply.reset()], ids=["closed", "reset"])
def test_stale_pooled_connection_is_retried_on_a_new_one(call, server, aws, jitter, fault):
    """After a freeze the pooled connection looks alive but the other end is gone: the request on it fails."""
    assert_created(call())
    server.script(fault)

    outcome = call()

    assert_created(outcome)
    assert [r.connection for r in server.requests] == [1, 1, 2]
    assert jitter == []
    assert outcome.elapsed < 0.2  # no backoff, no timeout: the new connection goes out at once
    assert aws.get_secret_value == 1


def test_black_holed_pooled_connection_times_out_per_attempt_and_is_retried(call, server, aws, monkeypatch):
    """A stale connection whose packets vanish: the per-attempt read timeout leaves time for a new connection."""
    monkeypatch.setenv("PADDLE_REQUEST_BUDGET_SECONDS", "1.5")
    monkeypatch.setattr(paddle, "READ_TIMEOUT_SECONDS", 0.3)
    assert_created(call())
    server.script(OK.with_(stall_before=5))

    outcome = call()

    assert_created(outcome)
    assert [r.connection for r in server.requests] == [1, 1, 2]
    assert 0.3 <= outcome.elapsed <= 1.5 + SLACK
    assert aws.get_secret_value == 1


def test_many_warm_invocations_reuse_one_tcp_connection(call, server, aws):
    outcomes = [call() for _ in range(50)]

    assert all(o.status == 201 for o in outcomes)
    assert len(server.requests) == 50
    assert server.connections == 1
    assert {r.connection for r in server.requests} == {1}
    assert aws.get_secret_value == 1  # and the key came from the cache after the cold start


# --- deadline -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [OK.with_(stall_before=5), OK.with_(stall_mid_body=5), OK.with_(drip=0.02)],
    ids=["stall-before-headers", "stall-mid-body", "slow-drip"],
)
def test_silence_past_the_deadline_is_gateway_timeout(warm, call, server, aws, fault):
    server.default = fault

    outcome = call()

    assert_error(outcome, 504, "gateway_timeout")
    assert len(server.requests) == 1
    assert within_deadline(outcome, SHORT)
    assert aws.get_secret_value == 1


def test_lambda_remaining_time_bounds_the_deadline(call, server, aws, context, monkeypatch):
    monkeypatch.setenv("PADDLE_REQUEST_BUDGET_SECONDS", "10")
    warm_up(call, server)
    context.remaining_ms = 1500  # minus the 1 s safety margin: 0.5 s for Paddle, far less than the 10 s budget
    server.default = OK.with_(stall_before=5)

    outcome = call()

    assert_error(outcome, 504, "gateway_timeout")
    assert len(server.requests) == 1
    assert within_deadline(outcome, 0.5)
    assert aws.get_secret_value == 1


def test_no_time_left_means_no_attempt(warm, call, server, aws, context):
    context.remaining_ms = 1100  # 0.1 s after the safety margin: less than one attempt needs

    outcome = call()

    assert_error(outcome, 504, "gateway_timeout")
    assert len(server.requests) == 0
    assert outcome.elapsed < SLACK
    assert aws.get_secret_value == 1


def test_no_retry_starts_that_cannot_finish(warm, call, server, aws):
    server.script(Reply.json(503, paddle_error("service_unavailable"), stall_before=SHORT - 0.15))

    outcome = call()

    assert_error(outcome, 502, "bad_gateway")  # Paddle's own answer, not a timeout we caused by trying again
    assert len(server.requests) == 1  # 0.15 s left cannot hold a pause and another attempt
    assert within_deadline(outcome, SHORT)
    assert aws.get_secret_value == 1


def test_direct_invocation_raises_the_timeout_type(warm, aws, server, context):
    from paddle_portal.app import lambda_handler
    from paddle_portal.errors import UpstreamTimeoutError

    server.default = OK.with_(stall_before=5)
    started = time.monotonic()

    with pytest.raises(UpstreamTimeoutError):
        lambda_handler({"customer_id": CUSTOMER_ID}, context)

    assert time.monotonic() - started <= SHORT + SLACK
    assert len(server.requests) == 1
    assert aws.get_secret_value == 1


# --- key rotation ---------------------------------------------------------------------------------------------


def rejecting(*bad_keys: str, code: str = "invalid_token") -> Callable[[Request], Reply]:
    def respond(request: Request) -> Reply:
        if bearer(request) in bad_keys:
            return Reply.json(403, paddle_error(code, "The API key is not valid.", type_="request_error"))
        return OK

    return respond


def put_secret(aws: SecretsManagerCalls, key: str) -> None:
    aws.client.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps({"api_key": key}))


@pytest.mark.parametrize("code", ["invalid_token", "forbidden"])
def test_rotated_key_is_picked_up_without_an_outage(call, server, aws, code):
    assert_created(call())
    put_secret(aws, ROTATED_API_KEY)  # rotation; the warm environment still caches the old key
    server.default = rejecting(API_KEY, code=code)

    outcome = call()
    after = call()

    assert_created(outcome)
    assert_created(after)
    assert [bearer(r) for r in server.requests] == [API_KEY, API_KEY, ROTATED_API_KEY, ROTATED_API_KEY]
    assert aws.get_secret_value == 2  # cold start + one forced re-read; the re-read refreshed the cache
    assert within_deadline(outcome)


def test_bad_key_is_configuration_error_without_a_retry_storm(call, server, aws, log_text):
    put_secret(aws, BAD_KEY)
    server.default = rejecting(BAD_KEY)

    outcomes = [call() for _ in range(5)]

    for outcome in outcomes:
        assert_error(outcome, 500, "configuration_error")
        assert "invalid_token" not in json.dumps(outcome.body)  # the cause is for the operator's logs only
        assert "not valid" not in json.dumps(outcome.body)
        assert within_deadline(outcome)
    assert len(server.requests) == 5  # one Paddle call per request: the re-read key was the same, so no retry
    assert aws.get_secret_value == 2  # cold start + one forced re-read, then throttled
    assert "invalid_token" in log_text()
    assert BAD_KEY not in log_text()


def test_rotation_to_another_bad_key_retries_once(call, server, aws):
    put_secret(aws, BAD_KEY)
    assert_created(call())  # Paddle still accepted it then; the environment caches it
    put_secret(aws, OTHER_BAD_KEY)
    server.default = rejecting(BAD_KEY, OTHER_BAD_KEY)

    outcome = call()

    assert_error(outcome, 500, "configuration_error")
    assert [bearer(r) for r in server.requests] == [BAD_KEY, BAD_KEY, OTHER_BAD_KEY]  # one retry, not more
    assert aws.get_secret_value == 2
    assert within_deadline(outcome)


def test_forced_re_read_is_allowed_again_after_the_interval(call, server, aws, monkeypatch):
    monkeypatch.setattr(secrets, "FORCED_REFRESH_MIN_INTERVAL_SECONDS", 0.2)
    put_secret(aws, BAD_KEY)
    server.default = rejecting(BAD_KEY)

    assert_error(call(), 500, "configuration_error")
    assert_error(call(), 500, "configuration_error")
    assert aws.get_secret_value == 2
    time.sleep(0.25)
    put_secret(aws, API_KEY)  # the operator fixed the secret
    fixed = call()

    assert_created(fixed)
    assert aws.get_secret_value == 3
    assert [bearer(r) for r in server.requests] == [BAD_KEY, BAD_KEY, BAD_KEY, API_KEY]


def test_key_rejected_too_late_for_a_retry_is_not_re_read(warm, call, server, aws):
    """A 403 that arrives when no retry could start any more: a re-read would only overrun the deadline."""
    server.default = Reply.json(403, paddle_error("invalid_token"), stall_before=SHORT - 0.15)

    outcome = call()

    assert_error(outcome, 500, "configuration_error")
    assert len(server.requests) == 1
    assert aws.get_secret_value == 1  # the warm read only
    assert within_deadline(outcome, SHORT)


def test_bare_403_is_a_key_problem_with_one_re_read(call, server, aws):
    # The contract maps 403 to our key whatever the body; the throttled re-read bounds what a bare edge 403 costs.
    server.default = Reply.text(403, "<html><body>Access denied</body></html>")

    outcome = call()

    assert_error(outcome, 500, "configuration_error")
    assert len(server.requests) == 1  # the re-read returned the same key: no retry
    assert aws.get_secret_value == 2


# --- odd responses ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "attempts", "status", "code"),
    [
        (Reply.text(502, "<html><h1>502 Bad Gateway</h1></html>"), 3, 502, "bad_gateway"),
        (Reply.text(503, b"", "text/plain"), 3, 502, "bad_gateway"),
        (Reply(500), 3, 502, "bad_gateway"),
        (Reply.text(400, "<html>Bad Request</html>"), 1, 502, "bad_gateway"),
        (Reply.text(404, "<html>Not Found</html>"), 1, 404, "not_found"),
        (Reply.text(429, "<html>Slow down</html>"), 3, 429, "too_many_requests"),
        (Reply.json(400, {"error": {"code": "bad_request", "errors": 5}}), 1, 400, "bad_request"),
        (Reply.json(400, {"error": "flat string"}), 1, 502, "bad_gateway"),
        (Reply.text(400, b"[" * 100_000, "application/json"), 1, 502, "bad_gateway"),
        (Reply(302, (("Location", "https://example.com/"),)), 1, 502, "bad_gateway"),
    ],
    ids=[
        "502-html",
        "503-empty",
        "500-no-body",
        "400-html",
        "404-html",
        "429-html",
        "400-errors-not-a-list",
        "400-error-not-an-object",
        "400-deeply-nested-json",
        "302",
    ],
)
def test_error_bodies_that_are_not_paddles_envelope(call, server, aws, reply, attempts, status, code):
    server.default = reply

    outcome = call()

    assert_error(outcome, status, code)
    assert len(server.requests) == attempts
    assert within_deadline(outcome)
    assert aws.get_secret_value == 1


def test_redirect_is_not_followed(call, server, aws):
    with FaultServer(default=OK) as elsewhere:
        server.default = Reply(307, (("Location", f"{elsewhere.url}/steal"),))

        outcome = call()

        assert elsewhere.requests == []  # our Authorization header never went anywhere else
    assert_error(outcome, 502, "bad_gateway")
    assert len(server.requests) == 1
    assert aws.get_secret_value == 1


def _without(document: dict[str, Any], *path: str) -> dict[str, Any]:
    copy = json.loads(json.dumps(document))
    target = copy
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return copy


FOREIGN_HOST_SESSION = portal_session(CUSTOMER_ID, (SUBSCRIPTION_ID,), host="https://customer-portal.paddle.com.evil")


@pytest.mark.parametrize(
    ("reply", "attempts"),
    [
        (Reply.text(201, json.dumps(SESSION)[:200], "application/json"), 1),
        (OK.with_(truncate_to=200), 3),
        (Reply.text(201, b"", "application/json"), 1),
        (Reply.text(201, "<html>Hello from the edge</html>"), 1),
        (Reply.text(201, b"\xff\xfe\x00garbage", "application/json"), 1),
        (Reply.json(201, [SESSION]), 1),
        (Reply.json(201, {"data": None, "meta": SESSION["meta"]}), 1),
        (Reply.json(201, _without(SESSION, "data", "urls")), 1),
        (Reply.json(201, _without(SESSION, "data", "urls", "general", "overview")), 1),
        (Reply.json(201, _without(SESSION, "data", "id")), 1),
        (Reply.text(201, b"[" * 100_000, "application/json"), 1),
        (Reply.json(201, FOREIGN_HOST_SESSION), 1),
        (Reply.text(201, b"x" * (2 * 1024 * 1024), "application/json"), 1),
        (Reply.text(201, b"x" * (2 * 1024 * 1024), "application/json", send_length=False), 1),
        (Reply.text(503, b"<html>" * (400 * 1024), send_length=False), 1),
    ],
    ids=[
        "invalid-json-cut-short",
        "truncated-below-content-length",
        "empty",
        "html",
        "not-utf8",
        "json-array",
        "data-null",
        "no-urls",
        "no-overview",
        "no-id",
        "deeply-nested",
        "portal-host-not-allowed",
        "huge-declared",
        "huge-undeclared",
        "huge-error-page",
    ],
)
def test_success_bodies_we_cannot_use_are_bad_gateway(call, server, aws, reply, attempts):
    server.default = reply

    outcome = call()

    assert_error(outcome, 502, "bad_gateway")
    assert len(server.requests) == attempts  # only a body cut short by the network is worth another attempt
    assert within_deadline(outcome)
    assert aws.get_secret_value == 1
    assert "evil" not in json.dumps(outcome.body)


def test_truncated_body_then_a_whole_one(call, server, aws):
    server.script(OK.with_(truncate_to=100))

    outcome = call()

    assert_created(outcome)
    assert len(server.requests) == 2
    assert aws.get_secret_value == 1


def test_request_id_comes_from_the_body_when_there_is_no_header(call, server, aws):
    outcome = call()

    assert_created(outcome)
    assert outcome.body["meta"]["request_id"] == SESSION["meta"]["request_id"]


# --- the numbers agree with Lambda and API Gateway ---------------------------------------------------------------

API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29


def test_timeouts_nest_inside_the_function_timeout_and_api_gateway():
    from paddle_portal.deadline import LAMBDA_SAFETY_MARGIN_SECONDS
    from paddle_portal.settings import Settings

    template = load_template()
    function = template["Resources"]["PortalFunction"]["Properties"]
    timeout = function.get("Timeout", template["Globals"]["Function"]["Timeout"])
    budget = float(function["Environment"]["Variables"]["PADDLE_REQUEST_BUDGET_SECONDS"])

    assert (timeout, budget) == (15, 10.0)  # docs/operations.md states these numbers
    # The budget binds before the Lambda clock does, so callers get our 504 rather than a killed function...
    assert budget + LAMBDA_SAFETY_MARGIN_SECONDS <= timeout
    # ...also when Paddle's 403 came late and the forced Secrets Manager re-read took as long as it may.
    assert budget + secrets.SECRETS_WORST_CASE_SECONDS <= timeout
    # API Gateway never gives up first, whatever budget the setting allows.
    assert timeout < API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS
    assert Settings.model_fields["request_budget_seconds"].default == budget
    # One hung attempt (a black-holed stale connection) still leaves room for a retry within the default budget.
    assert (
        budget >= paddle.READ_TIMEOUT_SECONDS + retry_policy.BACKOFF_INITIAL_SECONDS + retry_policy.MIN_ATTEMPT_SECONDS
    )
    assert paddle.CONNECT_TIMEOUT_SECONDS < paddle.READ_TIMEOUT_SECONDS


def test_secrets_manager_calls_are_bounded(aws):
    reader = secrets.PowertoolsSecretReader()
    reader(SECRET_ID, 300, False)

    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    # The bounded provider is Powertools' default secrets provider (so `parameters.clear_caches()` clears it).
    config = DEFAULT_PROVIDERS["secrets"].client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (1, 1)
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert aws.get_secret_value == 1


def test_unpinned_jitter_stays_between_half_and_all_of_the_delay():
    samples = [real_equal_jitter(0.4) for _ in range(200)]

    assert all(0.2 <= sample <= 0.4 for sample in samples)
    assert len(set(samples)) > 1
