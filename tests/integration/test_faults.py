"""Fault injection over real sockets: the real handler and urllib3 client, Paddle played by `FaultServer`: what is
sent, retries, Retry-After, resets, stale keep-alive connections, silences cut short by the deadline, oversized
answers, redirects, the key from moto's Secrets Manager, the environment's budgets. The decisions themselves are unit
tables (tests/unit). Nothing here measures time: pauses are recorded instead of slept (`sleeps`, jitter pinned), and a
call only the deadline can cut short runs under a hang guard 20 times that deadline (`answered`).
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from paddle_portal import __version__, secrets
from paddle_portal.paddle import client, retry_policy
from tests.events import route_event
from tests.faultserver import OK, SESSION, FaultServer, Reply, Request
from tests.support import (
    API_KEY,
    CUSTOMER_ID,
    OTHER_CUSTOMER_ID,
    ROTATED_API_KEY,
    SECRET_ID,
    SUBSCRIPTION_ID,
    LambdaContext,
    SecretsManagerCalls,
    paddle_error,
    portal_session,
)

BUDGET = 4.0  # PADDLE_REQUEST_BUDGET_SECONDS unless a test says otherwise: a 3 s Retry-After fits
SHORT = 0.5  # the budget of the tests that spend it all
HANG_GUARD_SECONDS = 10.0  # 20 times SHORT: only a call the deadline did not cut short gets there
RESET, DROP = Reply(action="reset"), Reply(action="drop")
BAD_KEY = "pdl_sdbx_apikey_01gtgztp8f4kek3yd4g1wrksa3_FAKEFAKEFAKEFAKEFAKE_XXX"


def too_many(retry_after: str | None = None) -> Reply:
    return Reply.json(429, paddle_error("too_many_requests"), {"Retry-After": retry_after} if retry_after else None)


def unavailable(retry_after: str | None = None) -> Reply:
    headers = {"Retry-After": retry_after} if retry_after else None
    return Reply.json(503, paddle_error("service_unavailable", type_="api_error"), headers)


@dataclass(frozen=True)
class Outcome:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def code(self) -> str | None:
        return self.body["error"]["code"] if "error" in self.body else None


@pytest.fixture(autouse=True)
def budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PADDLE_REQUEST_BUDGET_SECONDS", str(BUDGET))


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every pause the client takes between attempts, recorded instead of slept; jitter pinned to the full delay."""
    taken: list[float] = []
    monkeypatch.setattr(retry_policy, "equal_jitter", lambda delay: delay)
    monkeypatch.setattr(client, "time", SimpleNamespace(monotonic=time.monotonic, sleep=taken.append))
    return taken


@pytest.fixture
def call(aws: SecretsManagerCalls, server: FaultServer, context: LambdaContext) -> Callable[..., Outcome]:
    """One HTTP API POST (IAM) through the real handler."""
    from paddle_portal.app import lambda_handler

    def invoke(customer_id: str = CUSTOMER_ID, body: Any = None) -> Outcome:
        response = lambda_handler(route_event("http_api", "iam_post", customer_id=customer_id, body=body), context)
        return Outcome(response["statusCode"], response["headers"], json.loads(response["body"]))

    return invoke


def answered(call: Callable[[], Outcome]) -> Outcome:
    """`call()` under a hang guard: it fails the test when the deadline did not cut the call short."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(call).result(timeout=HANG_GUARD_SECONDS)
    finally:
        pool.shutdown(wait=False)


def assert_created(outcome: Outcome) -> None:
    assert outcome.status == 201, outcome.body
    assert outcome.body == SESSION  # Paddle's data and request id, as Paddle sent them


def assert_error(outcome: Outcome, status: int, code: str) -> None:
    assert (outcome.status, outcome.code) == (status, code), outcome.body
    assert ("Retry-After" in outcome.headers) is (status == 429)


def bearer(request: Request) -> str:
    return request.headers["authorization"].removeprefix("Bearer ")


# --- what is sent ------------------------------------------------------------------------------------------------

SENT_HEADERS = {
    "authorization": f"Bearer {API_KEY}",
    "paddle-version": "1",
    "accept": "application/json",
    "content-type": "application/json",
}


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        pytest.param({"subscription_ids": [SUBSCRIPTION_ID]}, {"subscription_ids": [SUBSCRIPTION_ID]}, id="ids"),
        pytest.param(None, {}, id="no-body-an-empty-object"),
    ],
)
def test_request_sent_to_paddle(call, server, body, sent):
    assert_created(call(body=body))

    # One POST with exactly these headers: the key, API version 1, JSON both ways, this project; nothing of the caller's
    [request] = server.requests
    assert (request.method, request.path, request.json()) == ("POST", f"/customers/{CUSTOMER_ID}/portal-sessions", sent)
    assert set(request.headers) == {*SENT_HEADERS, "user-agent", "host", "accept-encoding", "content-length"}
    assert {name: request.headers[name] for name in SENT_HEADERS} == SENT_HEADERS
    assert request.headers["user-agent"].startswith(f"paddle-portal-lambda/{__version__} ")


# --- retries and Retry-After -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retry:
    reply: Reply
    every_time: bool  # else once, then Paddle's session
    answer: tuple[int, str | None]  # the caller's status and code (None: Paddle's session)
    attempts: int
    pauses: list[float]
    retry_after: str | None = None  # the caller's Retry-After


RETRIES = {
    "503-then-201": Retry(unavailable(), False, (201, None), 2, [0.2]),
    "429-every-time": Retry(too_many(), True, (429, "too_many_requests"), 3, [0.2, 0.4], "10"),
    "retry-after-longer-than-backoff": Retry(too_many("1"), False, (201, None), 2, [1.0]),
    "retry-after-past-the-deadline": Retry(too_many("30"), False, (429, "too_many_requests"), 1, [], "30"),
    "retry-after-on-503-past-the-deadline": Retry(unavailable("30"), False, (502, "bad_gateway"), 1, []),
}


@pytest.mark.parametrize("row", list(RETRIES.values()), ids=list(RETRIES))
def test_retries_on_the_wire(call, server, sleeps, row):
    if row.every_time:
        server.default = row.reply
    else:
        server.script(row.reply)

    outcome = call()

    if row.answer[1] is None:
        assert_created(outcome)
    else:
        assert_error(outcome, *row.answer)
    assert (len(server.requests), sleeps) == (row.attempts, row.pauses)
    assert outcome.headers.get("Retry-After") == row.retry_after


def in_seconds(seconds: int) -> Callable[[Request], Reply]:
    """A 429 whose Retry-After is an HTTP date `seconds` from when the request arrives (whole seconds, rounded down)."""
    return lambda request: too_many(email.utils.formatdate(time.time() + seconds, usegmt=True))


def test_retry_after_as_an_http_date(call, server, sleeps):
    server.script(in_seconds(3))
    assert_created(call())  # Paddle's 2-3 s fit in the deadline: waited, then retried

    server.script(in_seconds(120))
    too_long = call()  # 120 s do not: Paddle's answer goes to the caller at once

    assert len(server.requests) == 3
    assert len(sleeps) == 1
    assert 1.5 < sleeps[0] <= 3
    assert_error(too_long, 429, "too_many_requests")
    assert 118 <= int(too_long.headers["Retry-After"]) <= 120


# --- connections ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        RESET,
        DROP,
        Reply(action="raw", body=b"garbage\r\n\r\n"),
        Reply(action="raw", body=b"\x16\x03\x01 not http\r\n\r\n"),
    ],
    ids=["reset", "closed-without-answer", "garbage", "tls-bytes"],
)
@pytest.mark.parametrize("every_time", [False, True], ids=["once", "every-time"])
def test_broken_connection_is_retried_at_once_on_a_new_connection(call, server, sleeps, fault, every_time):
    # Given a connection that breaks once (then Paddle answers), or on every attempt
    if every_time:
        server.default = fault
    else:
        server.script(fault)

    outcome = call()

    # Then each retry opens a new connection; the first goes out at once, the second after the policy's second delay
    if every_time:
        assert_error(outcome, 502, "bad_gateway")
        assert (len(server.requests), server.connections, sleeps) == (3, 3, [0.4])
    else:
        assert_created(outcome)
        assert (len(server.requests), server.connections, sleeps) == (2, 2, [])


def test_connection_refused_is_bad_gateway(call, sleeps, monkeypatch):
    with FaultServer() as gone:
        monkeypatch.setenv("PADDLE_API_BASE_URL", gone.url)  # nothing listens there once it is stopped

    assert_error(call(), 502, "bad_gateway")  # not a timeout: urllib3's NewConnectionError is a ConnectTimeoutError
    assert sleeps == [0.4]  # three attempts: the second at once, the third after the backoff


@pytest.mark.parametrize(
    ("first", "second", "connections", "pauses"),
    [
        pytest.param(OK.with_(close_after=True), OK, [1, 2], [], id="closed-while-idle-seen-before-use"),
        pytest.param(OK, DROP, [1, 1, 2], [], id="stale-closed"),
        pytest.param(OK, RESET, [1, 1, 2], [], id="stale-reset"),
        pytest.param(OK, OK.with_(stall_before=30), [1, 1, 2], [0.2], id="black-holed-times-out"),
    ],
)
def test_a_pooled_connection_gone_bad_between_calls_is_replaced(
    call, server, sleeps, monkeypatch, first, second, connections, pauses
):
    """After a freeze the pooled connection may look alive while the other end is gone: a new one goes out at once
    (a silent one after the read timeout, shortened here to 1 s)."""
    monkeypatch.setattr(client, "READ_TIMEOUT_SECONDS", 1.0)
    server.script(first, second)
    assert_created(call())
    server.wait_closed(1 if first.close_after else 0)  # the environment is frozen meanwhile

    assert_created(call())

    assert ([r.connection for r in server.requests], sleeps) == (connections, pauses)


# --- the deadline -------------------------------------------------------------------------------------------------


@pytest.fixture
def warm(call: Any, server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm environment (key cached, connection open; a cold Secrets Manager read would spend part of a short
    deadline), with a read timeout (30 s) that only the deadline can shorten."""
    assert_created(call())
    server.requests.clear()
    monkeypatch.setattr(client, "READ_TIMEOUT_SECONDS", 30.0)


@pytest.mark.usefixtures("warm")
@pytest.mark.parametrize(
    ("fault", "budget", "remaining_ms"),
    [
        pytest.param(OK.with_(stall_before=30), SHORT, 15_000, id="stall-before-headers"),
        pytest.param(OK.with_(stall_mid_body=30), SHORT, 15_000, id="stall-mid-body"),
        pytest.param(OK.with_(drip=0.02), SHORT, 15_000, id="slow-drip"),  # 40 s for ~2 KB, each byte in time
        pytest.param(OK.with_(stall_before=30), 28, 1500, id="the-lambdas-remaining-time"),  # 1 s margin: 0.5 s left
    ],
)
def test_silence_past_the_deadline_is_gateway_timeout(call, server, context, monkeypatch, fault, budget, remaining_ms):
    monkeypatch.setenv("PADDLE_REQUEST_BUDGET_SECONDS", str(budget))
    context.remaining_ms = remaining_ms
    server.default = fault

    assert_error(answered(call), 504, "gateway_timeout")
    assert len(server.requests) == 1


# --- the key, from moto's Secrets Manager ------------------------------------------------------------------------


@pytest.mark.parametrize(("max_age", "reads"), [pytest.param(None, 1, id="default"), pytest.param("0", 3, id="0")])
def test_warm_invocations_read_the_secret_once_per_max_age(call, server, aws, monkeypatch, max_age, reads):
    if max_age is not None:
        monkeypatch.setenv("SECRET_MAX_AGE_SECONDS", max_age)
    aws.client.put_secret_value(SecretId=SECRET_ID, SecretBinary=API_KEY.encode())  # a binary secret works too
    aws.reset()

    assert {call().status for _ in range(3)} == {201}

    assert {bearer(r) for r in server.requests} == {API_KEY}
    assert aws.get_secret_value == reads


def test_secrets_manager_calls_are_bounded(aws):
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    secrets.PowertoolsSecretReader()(SECRET_ID, 300, False)

    # The bounded provider is Powertools' default secrets provider (so `parameters.clear_caches()` clears it).
    config = DEFAULT_PROVIDERS["secrets"].client.meta.config
    assert (config.connect_timeout, config.read_timeout, config.retries) == (
        secrets.SECRETS_CONNECT_TIMEOUT_SECONDS,
        secrets.SECRETS_READ_TIMEOUT_SECONDS,
        {"mode": "standard", "total_max_attempts": secrets.SECRETS_MAX_ATTEMPTS},
    )


def rejecting(*bad_keys: str) -> Callable[[Request], Reply]:
    def respond(request: Request) -> Reply:
        if bearer(request) in bad_keys:
            return Reply.json(403, paddle_error("invalid_token", "The API key is not valid."))
        return OK

    return respond


def put_secret(aws: SecretsManagerCalls, key: str) -> None:
    aws.client.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps({"api_key": key}))


def test_rotated_key_is_picked_up_without_an_outage(call, server, aws):
    assert_created(call())
    put_secret(aws, ROTATED_API_KEY)  # rotation; the warm environment still caches the old key
    server.default = rejecting(API_KEY)

    assert_created(call())
    assert_created(call())

    assert [bearer(r) for r in server.requests] == [API_KEY, API_KEY, ROTATED_API_KEY, ROTATED_API_KEY]
    assert aws.get_secret_value == 2  # cold start + one forced re-read, which refreshed the cache


def test_bad_key_is_configuration_error_without_a_retry_storm(call, server, aws, logs):
    put_secret(aws, BAD_KEY)
    server.default = rejecting(BAD_KEY)

    outcomes = [call() for _ in range(5)]

    for outcome in outcomes:
        assert_error(outcome, 500, "configuration_error")
        assert "invalid_token" not in json.dumps(outcome.body)  # the cause is for the operator's logs only
    assert len(server.requests) == 5  # one Paddle call per request: the re-read key was the same, so no retry
    assert aws.get_secret_value == 2  # cold start + one forced re-read, then throttled
    assert "invalid_token" in logs.text
    assert BAD_KEY not in logs.text


# --- answers we cannot use -----------------------------------------------------------------------------------------


def test_redirect_is_not_followed(call, server):
    with FaultServer(default=OK) as elsewhere:
        server.default = Reply(307, (("Location", f"{elsewhere.url}/steal"),))

        assert_error(call(), 502, "bad_gateway")

        assert elsewhere.requests == []  # our Authorization header never went anywhere else
    assert len(server.requests) == 1


BIG = 2 * 1024 * 1024  # over the 1 MiB cap


@pytest.mark.parametrize(
    ("reply", "attempts"),
    [
        pytest.param(Reply.text(201, json.dumps(SESSION)[:200], "application/json"), 1, id="not-json"),
        pytest.param(Reply.json(201, {"data": None, "meta": SESSION["meta"]}), 1, id="no-data"),
        pytest.param(Reply.text(201, b"[" * 100_000, "application/json"), 1, id="deeply-nested"),
        pytest.param(OK.with_(truncate_to=200), 3, id="cut-short-by-the-network-is-retried"),
        pytest.param(Reply.text(201, b"x" * BIG, "application/json"), 1, id="over-1-mib-declared"),
        pytest.param(Reply(201, (("Content-Length", str(BIG)),), b"{}"), 1, id="declared-over-1-mib-not-waited-for"),
        pytest.param(Reply.text(201, b"x" * BIG, "application/json", send_length=False), 1, id="over-1-mib-undeclared"),
        pytest.param(Reply.text(503, b"<html>" * (BIG // 6), send_length=False), 1, id="error-page-over-1-mib"),
        pytest.param(Reply.text(400, "<html>Bad Request</html>"), 1, id="4xx-without-paddles-envelope"),
    ],
)
def test_answers_we_cannot_use_are_bad_gateway(call, server, reply, attempts):
    server.default = reply

    assert_error(call(), 502, "bad_gateway")
    assert len(server.requests) == attempts  # only a body cut short by the network is worth another attempt


# --- budgets of the execution environment ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "invocations", "attempts", "answer"),
    [
        # 3 attempts for the first invocation, then the spent budget stops retries: 1 each (without it: 90)
        pytest.param(too_many(), 30, 3 + 29, (429, "too_many_requests"), id="sustained-429s-cost-one-request-each"),
        pytest.param(RESET, 10, 3 + 9, (502, "bad_gateway"), id="sustained-resets-too"),
        # 3 refusals spend the budget; while Paddle's Retry-After runs, nothing is sent at all
        pytest.param(too_many("60"), 10, 3, (429, "too_many_requests"), id="retry-after-spent-budget-sends-nothing"),
    ],
)
def test_sustained_refusals_do_not_multiply_paddles_traffic(call, server, reply, invocations, attempts, answer):
    server.default = reply

    outcomes = [call() for _ in range(invocations)]

    assert {(o.status, o.code) for o in outcomes} == {answer}
    assert len(server.requests) == attempts
    if answer[0] == 429:
        assert 1 <= int(outcomes[-1].headers["Retry-After"]) <= 60


def test_one_customer_gets_a_bounded_number_of_sessions_and_others_are_not_affected(call, server, monkeypatch):
    monkeypatch.setenv("CUSTOMER_SESSION_BURST", "2")
    server.default = lambda request: Reply.json(201, portal_session(request.path.split("/")[2]))

    outcomes = [call() for _ in range(4)] + [call(OTHER_CUSTOMER_ID)]

    assert [o.status for o in outcomes] == [201, 201, 429, 429, 201]
    assert 1 <= int(outcomes[2].headers["Retry-After"]) <= 5
    assert len(server.requests) == 3  # the refused ones never reached Paddle
