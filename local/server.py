"""`python -m local.server [--port 3000] [--demo-port 3001] [--cognito-port 3002] [--portal-port 3003]
[--lambda-port 3004]`: the API on your machine, running the real handler (`make run`; the make variables PORT,
DEMO_PORT, COGNITO_PORT, PORTAL_PORT, LAMBDA_PORT).

A local stand-in for API Gateway HTTP API (see `local.gateway`) in front of `paddle_portal.app.lambda_handler`, with an
embedded default for every outside service:

- Secrets Manager: moto, in-process; secret `paddle-portal/local` holds {"api_key": <key>}, secret
  `paddle-portal/local-link-keys` an obviously fake key for signed links. Fake AWS credentials are forced, so nothing
  reaches a real AWS account. Signed links point at this server (PORTAL_LINK_BASE_URL = its http://127.0.0.1 URL).
- Paddle: `local.paddle_fake.PaddleFake` on a loopback port, unless `PADDLE_API_KEY` is set: then the secret holds that
  key and the handler talks to the real Paddle API it selects (the sandbox for a `pdl_sdbx_` key). The key is
  removed from the environment before the handler is imported and is never printed. `DEMO_CUSTOMER_ID` (one of your
  sandbox customers) replaces the claim user's made-up customer, `DEMO_EMAIL` the email user's address.
- Paddle's portal, offline: `local.portal_standin` on its own loopback port. The fake's links point there, and the
  function allows them because this run sets `LOCAL_PORTAL_STANDIN_URL` (a setting it refuses inside Lambda).

- Cognito: a user pool from moto (`local.cognito`) with the custom attribute `paddle_customer_id`, which its one app
  client cannot write, and three demo users, served on its own loopback port. `python -m local.token` signs one in.
- The sign-in page of `examples/web/` (`local.demo_page`) on another loopback port: its own origin, as 127.0.0.1 and
  as localhost, which `CORS_ALLOWED_ORIGINS` allows unless you set that variable yourself.

- Lambda's Invoke API (`local.lambda_api`) on its own loopback port, as `sam local start-lambda` serves it: other code
  invokes the same handler with `boto3.client("lambda", endpoint_url=...)`, function `PortalFunction`.

Ports are fixed by default so that what the banner prints (and the pool's ids) stays the same from run to run. One line
per request on stderr (status, route, latency, request id); `VERBOSE=1` adds the function's structured logs.

The gateway authenticates as API Gateway does (`local.authorizers`): JWT routes accept only the pool's tokens for its
app client (401 otherwise), IAM routes only requests SigV4-signed with the local credentials, AWS's documented example
keys (403 otherwise). Still a development server: keep it on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import io
import json
import logging
import os
import re
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, TextIO, TypeVar
from urllib.parse import urlsplit

from local.authorizers import IamAuthorizer, IamCaller, JwtAuthorizer
from local.cognito import DemoUser, UserPool, start_user_pool
from local.demo_page import DemoPage, page_config
from local.gateway import ACCOUNT_ID, Authorizers, Cors, Handler, HttpRequest, HttpResponse, invoke
from local.lambda_api import FUNCTION_LOGICAL_ID, LambdaApiServer
from local.loopback import LoopbackServer
from local.paddle_fake import Customer, PaddleFake
from local.portal_standin import PortalStandIn
from local.throttle import RouteThrottle
from local.throttle import from_environ as throttle_from_environ

HANDLER = "paddle_portal.app.lambda_handler"
SECRET_NAME = "paddle-portal/local"  # noqa: S105 - a name, not a secret
REGION = "us-east-1"
FAKE_API_KEY = "pdl_sdbx_apikey_01gtgztp8f4kek3yd4g1wrksa3_FAKEFAKEFAKEFAKEFAKE_AAA"  # obviously fake
SAMPLE_CUSTOMER_ID = "ctm_01gysfvfy7vqhpzkq8rjmrq7an"
SAMPLE_SUBSCRIPTION_ID = "sub_01h04vsc0qhwtsbsxh3422wjs4"
UNKNOWN_CUSTOMER_ID = "ctm_" + "0" * 26  # the fake answers 404 for these, to try the error path
UNKNOWN_SUBSCRIPTION_ID = "sub_" + "0" * 26
# AWS's documented example credentials: the only IAM caller the local gateway knows; curl signs with them.
SAMPLE_ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SAMPLE_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # noqa: S105 - AWS documentation example
LOCAL_CALLER = IamCaller(
    SAMPLE_SECRET_KEY, f"arn:aws:iam::{ACCOUNT_ID}:user/local-sigv4-caller", "AIDALOCALSIGV4CALLER", ACCOUNT_ID
)
# Demo users of the embedded user pool, and the Paddle fake's customers with their emails.
EMAIL_CUSTOMER_ID = "ctm_01hv6y1jedq4p1n0yqn5ba3ky4"
UNVERIFIED_CUSTOMER_ID = "ctm_01h844q4mznqpgqgm6evgw1w63"
CLAIM_USER = DemoUser("claim-user@example.com", email_verified=True, customer_id=SAMPLE_CUSTOMER_ID)
EMAIL_USER = DemoUser("email-user@example.com", email_verified=True, customer_id=None)
UNVERIFIED_USER = DemoUser("unverified-user@example.com", email_verified=False, customer_id=None)
DEMO_USERS = (CLAIM_USER, EMAIL_USER, UNVERIFIED_USER)
FAKE_CUSTOMERS = (
    Customer(SAMPLE_CUSTOMER_ID, CLAIM_USER.email, "Claire Claim"),
    Customer(EMAIL_CUSTOMER_ID, EMAIL_USER.email, "Emil Email"),
    # Known to Paddle: only the unverified email keeps this user out.
    Customer(UNVERIFIED_CUSTOMER_ID, UNVERIFIED_USER.email, "Una Verified"),
)
MAX_BODY_BYTES = 10 * 1024 * 1024  # HTTP API payload quota
LINK_SECRET_NAME = "paddle-portal/local-link-keys"  # noqa: S105 - a name, not a secret
# Obviously fake HMAC key for signed links (the deployed stack generates a random one): {"active": "k1", "k1": ...}.
FAKE_LINK_KEYS = {"active": "k1", "k1": "FAKE_local_link_signing_key_k1_NOT_SECRET_000000000"}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
SAMPLE_LINK_SECONDS = 24 * 3600

ENV_DEFAULTS = {  # the deployed function's values (the template's, or the code's defaults); set your own to override
    "POWERTOOLS_SERVICE_NAME": "paddle-portal",
    "POWERTOOLS_METRICS_NAMESPACE": "PaddlePortal",
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    "PORTAL_ALLOWED_HOSTS": "customer-portal.paddle.com,sandbox-customer-portal.paddle.com",
    # Above the template's CUSTOMER_SESSION_BURST (2): the banner's samples open five sessions for one customer
    # in a row.
    "CUSTOMER_SESSION_BURST": "5",
}
QUIET = {  # default: the gateway's one line per request; the function's warnings and errors only, no metrics
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
VERBOSE = {  # VERBOSE=1: every structured log line, pretty-printed, and the metrics
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_DEV": "true",
}
STANDIN_SETTING = "LOCAL_PORTAL_STANDIN_URL"  # read by the function outside Lambda only (paddle_portal.settings)
# The defaults of `make run`, and the make variable that changes each (tests pass 0: any free port).
DEFAULT_PORTS = {"api": 3000, "demo page": 3001, "sign-in service": 3002, "portal stand-in": 3003, "lambda api": 3004}
MAKE_VARIABLES = {
    "api": "PORT",
    "demo page": "DEMO_PORT",
    "sign-in service": "COGNITO_PORT",
    "portal stand-in": "PORTAL_PORT",
    "lambda api": "LAMBDA_PORT",
}
CUSTOMER_ID_PATTERN = re.compile(r"^ctm_[a-z\d]{26}$")


_T = TypeVar("_T")


class PortTaken(OSError):
    """One of the local run's servers cannot listen on its port: says which, and which make variable moves it."""

    def __init__(self, what: str, port: int, cause: OSError) -> None:
        self.what, self.port = what, port
        option = "--port" if what == "api" else f"--{what.split()[0]}-port".replace("sign-in", "cognito")
        super().__init__(
            f"cannot listen on 127.0.0.1:{port} for the {what} ({cause.strerror or cause}): "
            f"run `make run {MAKE_VARIABLES[what]}=<free port>` (python -m local.server {option} <free port>)"
        )


def listening(what: str, port: int, start: Callable[[], _T]) -> _T:
    """`start()`, with a bind failure turned into a `PortTaken` naming the make variable."""
    try:
        return start()
    except OSError as exc:
        if isinstance(exc, PortTaken) or exc.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
        raise PortTaken(what, port, exc) from None


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


class GatewayServer(LoopbackServer):
    """HTTP server that hands each request to `gateway.invoke`; `close()` also stops what `serve` started."""

    def __init__(self, address: tuple[str, int], handler: Handler, authorizers: Authorizers) -> None:
        self.handler = handler
        self.authorizers = authorizers
        self.cors: Cors | None = None  # the template's CORS, for this run's CORS_ALLOWED_ORIGINS (serve())
        self.throttle: RouteThrottle | None = None  # the template's route budgets (serve()); LOCAL_THROTTLE=off: none
        self.paddle_fake: PaddleFake | None = None
        self.user_pool: UserPool | None = None
        self.demo_page: DemoPage | None = None
        self.paddle_description = "whatever the handler is configured for"
        self.portal_standin: PortalStandIn | None = None
        self.demo_users: tuple[DemoUser, ...] = DEMO_USERS
        self.lambda_api: LambdaApiServer | None = None  # Lambda's Invoke API for the same handler (serve())
        self.cleanups: list[Callable[[], None]] = []
        self.invoke_lock = threading.Lock()  # one execution environment runs one invocation at a time
        super().__init__(address, _RequestHandler)

    def call(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD") and request.target.partition("?")[0] == "/":
            return self.index()
        # Throttled on arrival, as API Gateway does; only the invocation waits for the execution environment.
        return invoke(self._invoke_serially, request, self.authorizers, cors=self.cors, throttle=self.throttle)

    def _invoke_serially(self, event: dict[str, Any], context: Any) -> Any:
        with self.invoke_lock:
            return self.handler(event, context)

    def index(self) -> HttpResponse:
        """The API root of the local run (deployed, API Gateway answers 404 there): what to try and where to read."""
        body = {
            "service": "paddle-portal, local run (make run)",
            "demo_page": f"{self.demo_page.url}/" if self.demo_page else None,
            "routes": [f"{route.key} ({route.auth})" for route in self.authorizers.routes()],
            "docs": "README.md (Try it, Routes, Errors); docs/identity.md; docs/signed-links.md",
            "note": "This index exists in the local run only; a deployed API answers 404 here.",
        }
        headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
        return HttpResponse(200, headers, json.dumps(body, indent=2).encode() + b"\n")

    def close(self) -> None:
        self.stop()
        while self.cleanups:
            self.cleanups.pop()()


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway
    server: GatewayServer

    def _serve(self) -> None:
        started = time.monotonic()
        body = self._read_body()
        if body is None:
            response = HttpResponse(
                413, [("Content-Type", "application/json")], b'{"message":"Request Entity Too Large"}'
            )
            self.close_connection = True
        else:
            request = HttpRequest(
                self.command, self.path, list(self.headers.items()), body, self.client_address[0], self.request_version
            )
            response = self.server.call(request)
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        request_id = next((v for k, v in response.headers if k.lower() == "apigw-requestid"), "-")
        elapsed_ms = (time.monotonic() - started) * 1000
        # One line per request. No query string: a signed link's query is a credential.
        path = self.path.partition("?")[0]
        sys.stderr.write(
            f"{time.strftime('%H:%M:%S')} {response.status} {self.command} {path} {elapsed_ms:.0f} ms {request_id}\n"
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve
    # Methods API Gateway has no route for still get its 404 JSON, not http.server's 501 HTML page.
    do_TRACE = do_CONNECT = _serve

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
                if sum(map(len, chunks)) > MAX_BODY_BYTES:
                    return None
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return None if length > MAX_BODY_BYTES else self.rfile.read(length)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # `_serve` writes the one line per request

    def log_message(self, format: str, *args: Any) -> None:
        # Errors only (log_request is quiet); like the template's access logs: no query strings.
        line = re.sub(r"\?\S*", "", format % args)
        sys.stderr.write(f"{self.address_string()} {line}\n")


@dataclass
class OutsideServices:
    paddle_fake: PaddleFake | None
    paddle_description: str
    user_pool: UserPool
    stop: Callable[[], None]
    portal_standin: PortalStandIn | None = None
    demo_users: tuple[DemoUser, ...] = DEMO_USERS

    def authorizers(self) -> Authorizers:
        """API Gateway's checks for this run: the pool's JWTs for its app client, SigV4 with the local keys."""
        import urllib3

        jwks = urllib3.request("GET", self.user_pool.jwks_url, timeout=5).json()  # as API Gateway fetches it
        return Authorizers(
            iam=IamAuthorizer({SAMPLE_ACCESS_KEY: LOCAL_CALLER}, REGION),
            jwt=JwtAuthorizer(self.user_pool.issuer, [self.user_pool.client_id], jwks),
        )


def demo_users(environ: Mapping[str, str]) -> tuple[DemoUser, ...]:
    """The demo users of this run: `DEMO_CUSTOMER_ID` (a customer of your own Paddle sandbox) replaces the claim user's
    made-up customer, `DEMO_EMAIL` (the email of one of your sandbox customers) the email user's address."""
    customer_id = environ.get("DEMO_CUSTOMER_ID", "").strip()
    email = environ.get("DEMO_EMAIL", "").strip()
    if customer_id and not CUSTOMER_ID_PATTERN.fullmatch(customer_id):
        raise ValueError(
            f"DEMO_CUSTOMER_ID={customer_id!r} is not a Paddle customer id (ctm_ and 26 letters or digits)"
        )
    if email and (email.count("@") != 1 or any(c.isspace() or c == "," for c in email)):
        raise ValueError(f"DEMO_EMAIL={email!r} is not one email address")
    claim = DemoUser(CLAIM_USER.email, email_verified=True, customer_id=customer_id or SAMPLE_CUSTOMER_ID)
    by_email = DemoUser(email or EMAIL_USER.email, email_verified=True, customer_id=None)
    return (claim, by_email, UNVERIFIED_USER)


def start_outside_services(
    environ: MutableMapping[str, str], *, cognito_port: int = 0, portal_port: int = 0
) -> OutsideServices:
    """Moto's Secrets Manager (seeded with the key) and Cognito user pool and, without `PADDLE_API_KEY`, the Paddle
    fake and the portal stand-in its links point at; sets the env."""
    import boto3  # heavy imports only once the run starts
    import moto

    users = demo_users(environ)
    real_key = environ.pop("PADDLE_API_KEY", "").strip()
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
        environ.pop(name, None)
    environ.update(  # fake credentials: nothing may reach a real AWS account
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - fake
        AWS_SESSION_TOKEN="testing",  # noqa: S106 - fake
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
        PADDLE_API_KEY_SECRET_ID=SECRET_NAME,
        PORTAL_LINK_SIGNING_SECRET_ID=LINK_SECRET_NAME,
    )
    environ.pop(STANDIN_SETTING, None)  # this run decides: set below when the fake's links point at the stand-in
    for name, value in ENV_DEFAULTS.items():
        environ.setdefault(name, value)
    for name, value in (VERBOSE if truthy(environ.get("VERBOSE")) else QUIET).items():
        environ.setdefault(name, value)
    mock = moto.mock_aws()
    mock.start()
    fake = None
    standin = None
    pool = None
    try:
        secrets = boto3.client("secretsmanager", region_name=REGION)
        secrets.create_secret(Name=SECRET_NAME, SecretString=json.dumps({"api_key": real_key or FAKE_API_KEY}))
        secrets.create_secret(Name=LINK_SECRET_NAME, SecretString=json.dumps(FAKE_LINK_KEYS))
        if not real_key:
            names = {customer.id: customer.name or customer.email for customer in FAKE_CUSTOMERS}
            standin = listening(
                "portal stand-in", portal_port, lambda: PortalStandIn(portal_port, names=names).start("portal-stand-in")
            )
            fake = PaddleFake(
                FAKE_API_KEY,
                sandbox=True,
                unknown_customers={UNKNOWN_CUSTOMER_ID},
                unknown_subscriptions={UNKNOWN_SUBSCRIPTION_ID},
                customers=FAKE_CUSTOMERS,
                portal_base=standin.url,
            )
            standin.lookup = fake.customer_of_link
            environ["PADDLE_API_BASE_URL"] = fake.url
            environ[STANDIN_SETTING] = standin.url
        pool = listening("sign-in service", cognito_port, lambda: start_user_pool(users, REGION, cognito_port))
    except BaseException:
        for server in (fake, standin):
            if server is not None:
                server.stop()
        mock.stop()
        raise

    def stop() -> None:
        pool.stop()
        for server in (fake, standin):
            if server is not None:
                server.stop()
        mock.stop()

    if fake is not None:
        description = (
            f"local fake at {fake.url} (every well-formed id exists except {UNKNOWN_CUSTOMER_ID} "
            f"and {UNKNOWN_SUBSCRIPTION_ID}: 404)"
        )
    else:
        kind = {"pdl_sdbx_": "a sandbox key", "pdl_live_": "a LIVE key: real customers"}.get(
            real_key[:9], "a legacy key"
        )
        description = f"the REAL Paddle API, with the key from PADDLE_API_KEY ({kind}; never printed)"
    return OutsideServices(fake, description, pool, stop, standin, users)


def start_demo_page(services: OutsideServices, environ: MutableMapping[str, str], port: int = 0) -> DemoPage:
    """examples/web/ on its own origin, configured for this run's user pool (the API's URL comes once the gateway
    listens); its origins, as 127.0.0.1 and as localhost, become CORS_ALLOWED_ORIGINS unless that is set, so the page
    can call the API however it was opened."""
    pool = services.user_pool
    config = page_config("", pool.endpoint, pool.client_id, pool.region)
    page = listening("demo page", port, lambda: DemoPage(config, address=("127.0.0.1", port)).start("demo-page"))
    environ.setdefault("CORS_ALLOWED_ORIGINS", ",".join(page_origins(page)))
    return page


def page_origins(page: DemoPage) -> tuple[str, str]:
    """The demo page's origin as 127.0.0.1 and as localhost (both name this machine; a browser sends either)."""
    return page.origin, page.origin.replace("://127.0.0.1:", "://localhost:")


def load_handler(dotted: str = HANDLER) -> Handler:
    module, _, name = dotted.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module), name)
    return handler


def serve(
    port: int = 0,
    host: str = "127.0.0.1",
    handler: Handler | None = None,
    *,
    demo_port: int = 0,
    cognito_port: int = 0,
    portal_port: int = 0,
    lambda_port: int = 0,
) -> GatewayServer:
    """Start the outside services, then the gateway in a daemon thread; returns the bound, serving server. Ports 0
    (the default here; `make run` passes fixed ones): any free port."""
    services = start_outside_services(os.environ, cognito_port=cognito_port, portal_port=portal_port)
    demo_page = None
    try:
        demo_page = start_demo_page(services, os.environ, demo_port)  # before CORS_ALLOWED_ORIGINS is read below
        authorizers = services.authorizers()
        # The handler is imported after the environment is set.
        the_handler = handler or load_handler()
        server = listening("api", port, lambda: GatewayServer((host, port), the_handler, authorizers))
    except BaseException:
        if demo_page is not None:
            demo_page.stop()
        services.stop()
        raise
    # CorsAllowedOrigins of the deployed stack: comma-separated origins whose pages may call the API.
    server.cors = Cors.from_setting(os.environ.get("CORS_ALLOWED_ORIGINS", ""))
    server.throttle = throttle_from_environ(os.environ)
    server.paddle_fake = services.paddle_fake
    server.user_pool = services.user_pool
    server.paddle_description = services.paddle_description
    server.portal_standin = services.portal_standin
    server.demo_users = services.demo_users
    server.cleanups.append(services.stop)
    demo_page.config["apiUrl"] = server.url
    server.demo_page = demo_page
    if services.portal_standin is not None:
        services.portal_standin.back_url = f"{demo_page.url}/"
    server.cleanups.append(demo_page.stop)
    # Signed links point back at this server. Only a loopback URL may be plain http (the function's settings refuse
    # http elsewhere), and the gateway's domainName here is the client's Host header, which the function never
    # derives a URL from; listening elsewhere, minting answers configuration_error unless you set an https URL.
    if urlsplit(server.url).hostname in LOOPBACK_HOSTS:
        os.environ.setdefault("PORTAL_LINK_BASE_URL", server.url)
    try:  # Lambda's Invoke API, as `sam local start-lambda`: the same handler, one invocation at a time
        lambda_api = listening(
            "lambda api", lambda_port, lambda: LambdaApiServer((host, lambda_port), the_handler, server.invoke_lock)
        )
    except BaseException:
        server.close()
        raise
    server.lambda_api = lambda_api.start("local-lambda-api")
    server.cleanups.append(lambda_api.stop)
    return server.start("local-gateway")


def sample_link(environ: MutableMapping[str, str]) -> str | None:
    """A link to the sample customer's overview, valid 24 hours, signed with the local fake key as the function
    would sign it (None when links have no base URL here)."""
    from paddle_portal.signed_links import SigningKeys, claims_for, link_url

    base_url = environ.get("PORTAL_LINK_BASE_URL", "").rstrip("/")
    if not base_url:
        return None
    claims = claims_for(SAMPLE_CUSTOMER_ID, "overview", None, SAMPLE_LINK_SECONDS, time.time())
    return link_url(base_url, claims, SigningKeys.parse(json.dumps(FAKE_LINK_KEYS)))


def demo_user_lines(
    environ: Mapping[str, str], users: tuple[DemoUser, ...] = DEMO_USERS, *, real_paddle: bool = False
) -> list[str]:
    """`demo user: <email> <password> <what this user will see>`, for the function's customer lookup setting."""
    by_email = environ.get("CUSTOMER_LOOKUP", "claim").strip().lower() == "verified_email"
    claim = environ.get("CUSTOMER_ID_CLAIM") or "custom:paddle_customer_id"
    claim_user, email_user, unverified_user = users
    where = "Paddle's sandbox portal" if real_paddle else "the portal stand-in"
    made_up = real_paddle and claim_user.customer_id == SAMPLE_CUSTOMER_ID
    claim_seen = (
        f"404 not_found: customer {SAMPLE_CUSTOMER_ID} is made up and not in your sandbox (set DEMO_CUSTOMER_ID)"
        if made_up
        else f"{where}, for customer {claim_user.customer_id} (from the {claim} claim)"
    )
    if by_email:
        email_seen = (
            f"{where}, for the customer with this verified email"
            if real_paddle
            else f"{where}, for customer {EMAIL_CUSTOMER_ID} (found by their verified email)"
        )
    else:
        email_seen = (
            f"refused (403 forbidden) in this mode: their token has no {claim} claim, and this mode does not look "
            "customers up by email (CUSTOMER_LOOKUP=verified_email make run does)"
        )
    seen = {
        claim_user.email: claim_seen,
        email_user.email: email_seen,
        unverified_user.email: "refused (403 forbidden): no customer claim, and an email that is not verified",
    }
    return [f"demo user: {user.email} {user.password} {seen[user.email]}" for user in users]


def token_command(pool: UserPool, email: str) -> str:
    """The shell command that signs a demo user in and prints their ID token; absolute paths: it works from any
    directory."""
    python = Path(sys.executable).absolute()  # not resolved: the venv's python, not the interpreter it links to
    repo = Path(__file__).resolve().parent.parent
    args = f"--endpoint {pool.endpoint} --client-id {pool.client_id} {shlex.quote(email)}"
    return f"PYTHONPATH={shlex.quote(str(repo))} {shlex.quote(str(python))} -m local.token {args}"


def mode_lines(environ: Mapping[str, str]) -> str:
    claim = environ.get("CUSTOMER_ID_CLAIM") or "custom:paddle_customer_id"
    if environ.get("CUSTOMER_LOOKUP", "claim").strip().lower() == "verified_email":
        return (
            "mode      : CUSTOMER_LOOKUP=verified_email: a signed-in user's customer is the Paddle customer with\n"
            "            their verified email. The default mode reads the customer from a token claim: make run"
        )
    return (
        f"mode      : CUSTOMER_LOOKUP=claim (the default): a signed-in user's customer is the {claim} claim of their\n"
        "            ID token. To find customers by verified email instead: CUSTOMER_LOOKUP=verified_email make run"
    )


def banner(server: GatewayServer, environ: MutableMapping[str, str]) -> str:
    url = server.url
    pool = server.user_pool
    iam = f"--aws-sigv4 'aws:amz:{REGION}:execute-api' --user '{SAMPLE_ACCESS_KEY}:{SAMPLE_SECRET_KEY}'"
    body = shlex.quote(json.dumps({"subscription_ids": [SAMPLE_SUBSCRIPTION_ID]}))
    # Query parameters sorted by name: curl signs the query as written, SigV4 wants it sorted.
    query = f"action=cancel_subscription&subscription_id={SAMPLE_SUBSCRIPTION_ID}"
    redirect = shlex.quote(f"{url}/customers/{SAMPLE_CUSTOMER_ID}/portal?{query}")
    link_body = shlex.quote(
        json.dumps({"action": "cancel_subscription", "subscription_id": SAMPLE_SUBSCRIPTION_ID, "expires_in": 3600})
    )
    link = sample_link(environ)
    follow = (
        f"curl -i {shlex.quote(link)}"
        if link
        else "(links need an https PORTAL_LINK_BASE_URL when the server listens beyond 127.0.0.1)"
    )
    bearer = '"Authorization: Bearer $TOKEN"'
    if pool is None:
        users = "  users   : (no user pool: the JWT routes answer 404)"
        jwt_samples = ""
    else:
        users = (
            f"  users   : Cognito user pool {pool.pool_id} (moto) at {pool.endpoint}, app client {pool.client_id}\n"
            f"            JWT routes take its ID tokens (issuer {pool.issuer}, audience {pool.client_id});\n"
            "            the pool, its app client and the ports are the same on every run: tokens outlive a restart"
        )
        jwt_samples = f"""
# Sign a demo user in (USER_PASSWORD_AUTH) and keep their ID token for the next commands (valid 1 hour; works from
# any directory; `make token USER=<email>` in the repository does the same)
TOKEN=$({token_command(pool, CLAIM_USER.email)})

# JWT route, customer from the token (201)
curl -sS -X POST -H {bearer} {url}/portal-sessions

# JWT route, JSON instead of the redirect (200)
curl -sS -H 'Accept: application/json' -H {bearer} {url}/portal

# JWT route for pages: a signed link to the token's customer's portal, valid 60 s (201); the page navigates to it
curl -sS -X POST -H {bearer} {url}/portal-links
"""
    real_paddle = server.paddle_fake is None
    users_of_run = server.demo_users
    demo_users = "\n".join(demo_user_lines(environ, users_of_run, real_paddle=real_paddle))
    if server.portal_standin is not None:
        ends = (
            f"ends on  : the local stand-in of Paddle's portal, {server.portal_standin.url}, naming the customer,"
            " action and subscription\n"
            "            (Paddle is a fake here; with a sandbox key in PADDLE_API_KEY, Paddle's real sandbox portal)"
        )
    elif real_paddle:
        ends = "ends on  : Paddle's real portal for the user's customer (PADDLE_API_KEY decides sandbox or live)"
        if users_of_run[0].customer_id == SAMPLE_CUSTOMER_ID and users_of_run[1].email == EMAIL_USER.email:
            ends += (
                "\n!! the demo users' customers are made up: name one of your sandbox customers, e.g.\n"
                "   PADDLE_API_KEY=... DEMO_CUSTOMER_ID=ctm_... make run  (the claim user opens their portal)\n"
                "   PADDLE_API_KEY=... CUSTOMER_LOOKUP=verified_email DEMO_EMAIL=<a customer's email> make run"
            )
    else:
        ends = "ends on  : wherever the configured Paddle's portal links point"
    if server.demo_page is not None:
        page = server.demo_page
        allowed = server.cors is not None and all(server.cors.allows(origin) for origin in page_origins(page))
        other = page_origins(page)[1]
        note = (
            f"sign in as a demo user, then Manage billing; {other}/ works too"
            if allowed
            else "NOT in CORS_ALLOWED_ORIGINS: calls fail"
        )
        demo_users = f"demo page: {page.url}/  ({note})\n{ends}\n{demo_users}"
    lambda_url = server.lambda_api.url if server.lambda_api else "(not started)"
    verbose = truthy(environ.get("VERBOSE"))
    logs = (
        "the function's structured logs (VERBOSE=1)"
        if verbose
        else "one line per request: status, route, latency, request id (VERBOSE=1 make run: the function's logs too)"
    )
    return f"""
paddle-portal local API on {url}  (Ctrl-C stops everything; paste the samples below into a second terminal)
{demo_users}
{mode_lines(environ)}

  api     : {url}/ answers an index of the routes; handler {HANDLER}, called with HTTP API payload 2.0 events
  secrets : moto Secrets Manager (in-process), secrets {SECRET_NAME} and {LINK_SECRET_NAME} (fake link key)
  paddle  : {server.paddle_description}
  links   : signed portal links point at {environ.get("PORTAL_LINK_BASE_URL") or "(no base URL)"}
{users}
  cors    : {", ".join(server.cors.allow_origins) if server.cors else "none (set CORS_ALLOWED_ORIGINS=<origin>,...)"}
  iam     : SigV4 for execute-api in {REGION}, signed with AWS's example keys {SAMPLE_ACCESS_KEY} / {SAMPLE_SECRET_KEY}
  lambda  : {lambda_url}  (Lambda's Invoke API, as sam local start-lambda; function {FUNCTION_LOGICAL_ID})
  logs    : {logs}
  The gateway verifies tokens and signatures as API Gateway does: a refused request never reaches the handler.

# IAM route, JSON (201)
curl -sS {iam} -H 'Content-Type: application/json' -d {body} {url}/customers/{SAMPLE_CUSTOMER_ID}/portal-sessions

# IAM route, browser redirect (302; see Location)
curl -i {iam} {redirect}
{jwt_samples}
# Signed link, minted by a backend (IAM, 201): {{"data": {{"url", "expires_at"}}, "meta"}}; Paddle is not called yet
curl -sS {iam} -H 'Content-Type: application/json' -d {link_body} {url}/customers/{SAMPLE_CUSTOMER_ID}/portal-links

# Signed link, followed with no credentials (302 to a fresh session; open it in a browser too). Minted at startup:
{follow}

# Direct invocation, as another Lambda does it (boto3's Lambda client pointed at the local Invoke API)
AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws lambda invoke --endpoint-url {lambda_url} --region {REGION} \\
  --function-name {FUNCTION_LOGICAL_ID} --cli-binary-format raw-in-base64-out \\
  --payload {shlex.quote(json.dumps({"customer_id": SAMPLE_CUSTOMER_ID}))} /dev/stdout
"""


class WithoutMetrics(io.TextIOBase):
    """stdout without Powertools' EMF metric lines (`{"_aws": ...}`): POWERTOOLS_METRICS_DISABLED silences flushed
    metrics, not the single metrics (cold start, errors by code) the function prints. The quiet default only."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if not line.startswith('{"_aws":'):
                self.out.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self.out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.server", description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORTS["api"], help="the API (make run PORT=...)")
    parser.add_argument("--demo-port", type=int, default=DEFAULT_PORTS["demo page"], help="make run DEMO_PORT=...")
    parser.add_argument(
        "--cognito-port", type=int, default=DEFAULT_PORTS["sign-in service"], help="make run COGNITO_PORT=..."
    )
    parser.add_argument(
        "--portal-port", type=int, default=DEFAULT_PORTS["portal stand-in"], help="make run PORTAL_PORT=..."
    )
    parser.add_argument(
        "--lambda-port",
        type=int,
        default=DEFAULT_PORTS["lambda api"],
        help="Lambda's Invoke API (make run LAMBDA_PORT=...)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for signum in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C and `kill` stop cleanly, however we were started
        signal.signal(signum, signal.default_int_handler)
    try:
        server = serve(
            args.port,
            args.host,
            demo_port=args.demo_port,
            cognito_port=args.cognito_port,
            portal_port=args.portal_port,
            lambda_port=args.lambda_port,
        )
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("paddle_portal"):
            raise
        hint = "run from the repository root with PYTHONPATH=functions"
        print(f"cannot import {HANDLER} ({exc}); {hint}", file=sys.stderr)
        return 1
    except PortTaken as exc:
        print(exc, file=sys.stderr)
        return 1
    except ValueError as exc:  # DEMO_CUSTOMER_ID, DEMO_EMAIL
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port} ({exc}); run `make run PORT=<free port>`", file=sys.stderr)
        return 1
    print(banner(server, os.environ), flush=True)
    if not truthy(os.environ.get("VERBOSE")):
        sys.stdout = WithoutMetrics(sys.stdout)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"!! WARNING: listening on {args.host}: anyone who can reach it gets portal links.", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
