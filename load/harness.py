"""`python -m load`: bounded load scenarios on 127.0.0.1 through the local gateway (the template's throttles, real
JWTs and SigV4), several execution environments (worker processes running the real handler), and a Paddle stand-in
with Paddle's rate limit (token bucket, 100 ms an answer, 429 + Retry-After: 1 beyond it).

Caller classes: `links` follow genuine signed links (an email campaign), `customers` are signed-in users clicking
"Manage billing" (POST /portal-links with their token, then the link), `script` is one signed-in customer scripting
GET /portal, `flood` sends garbage links, `backend` calls the IAM session route.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from load.environments import EnvironmentPool
from local.authorizers import IamAuthorizer, JwtAuthorizer
from local.cognito import DemoUser, sign_in, start_user_pool
from local.gateway import Authorizers, HttpRequest, HttpResponse, invoke
from local.paddle_fake import PaddleFake, paddle_id
from local.server import (
    FAKE_API_KEY,
    FAKE_LINK_KEYS,
    LOCAL_CALLER,
    REGION,
    SAMPLE_ACCESS_KEY,
    SAMPLE_SECRET_KEY,
    GatewayServer,
    _RequestHandler,
)
from local.throttle import RouteThrottle, TokenBucket

PADDLE_RATE = 4.0  # 240 requests/minute
PADDLE_BURST = 10
PADDLE_LATENCY = 0.1
LINK_LIFETIME = 3600
PASSWORD = "Load-test-password-1"  # noqa: S105 - a moto user pool on loopback


@dataclass
class Call:
    caller: str
    status: int
    seconds: float
    function: bool  # reached the function (not refused by the gateway's throttle)


@dataclass
class Result:
    name: str
    seconds: float
    calls: list[Call] = field(default_factory=list)
    paddle_requests: dict[str, int] = field(default_factory=dict)
    paddle_served: int = 0

    def served(self, caller: str) -> int:
        return sum(1 for c in self.calls if c.caller == caller and c.status in (200, 201, 302))

    def offered(self, caller: str) -> int:
        return sum(1 for c in self.calls if c.caller == caller)

    def rows(self) -> list[str]:
        out = []
        for caller in sorted({c.caller for c in self.calls}):
            calls = [c for c in self.calls if c.caller == caller]
            invocations = sum(1 for c in calls if c.function)
            per = self.paddle_requests.get(caller, 0) / invocations if invocations else 0.0
            times = sorted(c.seconds * 1000 for c in calls)
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            gateway_429 = sum(1 for c in calls if c.status == 429 and not c.function)
            function_429 = sum(1 for c in calls if c.status == 429 and c.function)
            out.append(
                f"| {self.name} | {caller} | {len(calls)} | {self.served(caller)} "
                f"({100 * self.served(caller) / len(calls):.0f}%) | {gateway_429} | {function_429} | "
                f"{per:.2f} | {statistics.median(times):.0f} | {p99:.0f} |"
            )
        return out

    def goodput(self) -> float:
        """Requests Paddle granted during the scenario, as a share of what its limit allows over it."""
        return self.paddle_served / (PADDLE_RATE * self.seconds + PADDLE_BURST)

    def per_invocation(self, caller: str) -> float:
        invocations = sum(1 for c in self.calls if c.caller == caller and c.function)
        return self.paddle_requests.get(caller, 0) / invocations if invocations else 0.0


class _QuietRequestHandler(_RequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # thousands of requests: the table says what happened


class LoadGateway(GatewayServer):
    """The local gateway in front of the environment pool: invocations run concurrently, one per environment."""

    def __init__(self, address: tuple[str, int], handler: Any, authorizers: Authorizers) -> None:
        super().__init__(address, handler, authorizers)
        self.RequestHandlerClass = _QuietRequestHandler

    def call(self, request: HttpRequest) -> HttpResponse:
        return invoke(self.handler, request, self.authorizers, cors=None, throttle=self.throttle)


class Harness:
    def __init__(self, environments: int = 6, customers: int = 6) -> None:
        import moto

        self._mock = moto.mock_aws()
        self._mock.start()
        self.paddle = PaddleFake(FAKE_API_KEY, sandbox=True, latency=PADDLE_LATENCY)
        self.users = [
            DemoUser(f"load-{n}@example.com", email_verified=True, customer_id=paddle_id("ctm_"))
            for n in range(customers)
        ]
        self.users = [DemoUser(u.email, u.email_verified, u.customer_id, PASSWORD) for u in self.users]
        self.pool = start_user_pool(self.users, REGION)
        jwks = urllib3.request("GET", self.pool.jwks_url, timeout=5).json()
        authorizers = Authorizers(
            iam=IamAuthorizer({SAMPLE_ACCESS_KEY: LOCAL_CALLER}, REGION),
            jwt=JwtAuthorizer(self.pool.issuer, [self.pool.client_id], jwks),
        )
        self.gateway = LoadGateway(("127.0.0.1", 0), lambda e, c: None, authorizers)
        environ = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "PADDLE_API_KEY_SECRET_ID": "paddle-portal/local",
            "PORTAL_LINK_SIGNING_SECRET_ID": "paddle-portal/local-link-keys",
            "PADDLE_API_BASE_URL": self.paddle.url,
            "PORTAL_LINK_BASE_URL": self.gateway.url,
            "POWERTOOLS_SERVICE_NAME": "paddle-portal",
            "POWERTOOLS_METRICS_NAMESPACE": "PaddlePortal",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "CRITICAL",
            "PYTHONPATH": os.pathsep.join(filter(None, ["functions", os.environ.get("PYTHONPATH", "")])),
            "CUSTOMER_SESSION_BURST": os.environ.get("CUSTOMER_SESSION_BURST", "2"),  # the template's default
        }
        self.environments = EnvironmentPool(environments, environ)
        self.gateway.handler = self.environments
        self.gateway.start("load-gateway")
        self.tokens = {
            u.email: sign_in(self.pool.endpoint, self.pool.client_id, u.email, PASSWORD)["IdToken"] for u in self.users
        }
        self.http = urllib3.PoolManager(maxsize=256, retries=False, timeout=30)
        self.caller_of: dict[str, str] = {}

    def close(self) -> None:
        self.gateway.close()
        self.environments.close()
        self.paddle.stop()
        self.pool.stop()
        self._mock.stop()

    # --- one request of each caller class: (status, reached the function)

    def _get(self, url: str, headers: dict[str, str]) -> tuple[int, bool, bytes]:
        response = self.http.request("GET", url, headers=headers, redirect=False)
        return response.status, not _gateway_refusal(response), response.data

    def follow_link(self, customer: str) -> tuple[int, bool]:
        status, reached, _ = self._get(self.link(customer), {"Accept": "text/html"})
        return status, reached

    def click(self, user: DemoUser) -> tuple[int, bool]:
        response = self.http.request(
            "POST", f"{self.gateway.url}/portal-links", headers={"Authorization": f"Bearer {self.tokens[user.email]}"}
        )
        if response.status != 201:
            return response.status, False
        status, reached, _ = self._get(json.loads(response.data)["data"]["url"], {"Accept": "text/html"})
        return status, reached

    def script(self, user: DemoUser) -> tuple[int, bool]:
        headers = {"Authorization": f"Bearer {self.tokens[user.email]}", "Accept": "application/json"}
        status, reached, _ = self._get(f"{self.gateway.url}/portal", headers)
        return status, reached

    def garbage(self, n: int) -> tuple[int, bool]:
        status, reached, _ = self._get(f"{self.gateway.url}/links/portal?c=bad{n}&sig=x", {"Accept": "text/html"})
        return status, reached

    def backend(self, customer: str) -> tuple[int, bool]:
        url = f"{self.gateway.url}/customers/{customer}/portal-sessions"
        request = AWSRequest(method="POST", url=url, data=b"", headers={"Content-Type": "application/json"})
        SigV4Auth(Credentials(SAMPLE_ACCESS_KEY, SAMPLE_SECRET_KEY), "execute-api", REGION).add_auth(request)
        response = self.http.request("POST", url, body=b"", headers=dict(request.headers.items()))
        return response.status, not _gateway_refusal(response)

    def link(self, customer: str) -> str:
        from paddle_portal.signed_links import SigningKeys, claims_for, link_url

        claims = claims_for(customer, "overview", None, LINK_LIFETIME, time.time())
        return link_url(self.gateway.url, claims, SigningKeys.parse(json.dumps(FAKE_LINK_KEYS)))

    # --- a scenario: an open-loop schedule of (seconds from start, caller class, customer id or None, request)

    def run(self, name: str, seconds: float, schedule: list[tuple[float, str, str | None, Any]]) -> Result:
        self.environments.reset()
        self.gateway.throttle = RouteThrottle.from_template()
        self.paddle.rate_limit = limit = CountingBucket(PADDLE_RATE, PADDLE_BURST)
        before = len(self.paddle.requests)
        for _, caller, customer, _ in schedule:
            if customer:
                self.caller_of[customer] = caller
        result = Result(name, seconds)
        lock = threading.Lock()

        def one(caller: str, request: Any) -> None:
            started = time.monotonic()
            try:
                status, reached = request()
            except Exception:
                status, reached = 599, True
            with lock:
                result.calls.append(Call(caller, status, time.monotonic() - started, reached))

        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=128) as executor:
            for offset, caller, _, request in sorted(schedule, key=lambda item: item[0]):
                delay = start + offset - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                executor.submit(one, caller, request)
        requests = self.paddle.requests[before:]
        counts: dict[str, int] = defaultdict(int)
        for recorded in requests:
            parts = recorded.path.split("/")
            customer = parts[2] if len(parts) > 2 else ""
            counts[self.caller_of.get(customer, "?")] += 1
        result.paddle_requests = dict(counts)
        # Goodput: the requests Paddle granted while the schedule ran (calls still waiting out retries after it ended
        # do not count against a window too short for them).
        result.paddle_served = sum(1 for granted in limit.granted if granted - start <= seconds)
        return result


@dataclass
class CountingBucket(TokenBucket):
    """Paddle's rate limit, remembering when it granted a request."""

    granted: list[float] = field(default_factory=list)

    def take(self) -> bool:
        if not super().take():
            return False
        self.granted.append(time.monotonic())
        return True


def _gateway_refusal(response: Any) -> bool:
    return response.status == 429 and response.data == b'{"message": "Too Many Requests"}'


def every(interval: float, seconds: float, phase: float = 0.0) -> list[float]:
    count = int((seconds - phase) / interval + 0.999)
    return [phase + n * interval for n in range(max(0, count))]
