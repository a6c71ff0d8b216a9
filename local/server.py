"""`python -m local.server [--port 3000] [--host 127.0.0.1]`: the API on your machine, running the real handler.

A local stand-in for API Gateway HTTP API (see `local.gateway`) in front of `paddle_portal.app.lambda_handler`, with an
embedded default for every outside service:

- Secrets Manager: moto, in-process; secret `paddle-portal/local` holds {"api_key": <key>}, secret
  `paddle-portal/local-link-keys` an obviously fake key for signed links. Fake AWS credentials are forced, so nothing
  reaches a real AWS account. Signed links point at this server (PORTAL_LINK_BASE_URL = its http://127.0.0.1 URL).
- Paddle: `local.paddle_fake.PaddleFake` on a loopback port, unless `PADDLE_API_KEY` is set: then the secret holds that
  key and the handler talks to the real Paddle API it selects (the sandbox for a `pdl_sdbx_` key). The key is
  removed from the environment before the handler is imported and is never printed.

- Cognito: a user pool from moto (`local.cognito`) with the custom attribute `paddle_customer_id`, which its one app
  client cannot write, and three demo users, served on its own loopback port. `python -m local.token` signs one in.
- The sign-in page of `examples/web/` (`local.demo_page`) on another loopback port: its own origin, which
  `CORS_ALLOWED_ORIGINS` allows unless you set that variable yourself.

The gateway authenticates as API Gateway does (`local.authorizers`): JWT routes accept only the pool's tokens for its
app client (401 otherwise), IAM routes only requests SigV4-signed with the local credentials, AWS's documented example
keys (403 otherwise). Still a development server: keep it on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import importlib
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
from typing import Any
from urllib.parse import urlsplit

from local.authorizers import IamAuthorizer, IamCaller, JwtAuthorizer
from local.cognito import DemoUser, UserPool, start_user_pool
from local.demo_page import DemoPage, page_config
from local.gateway import ACCOUNT_ID, Authorizers, Cors, Handler, HttpRequest, HttpResponse, invoke
from local.loopback import LoopbackServer
from local.paddle_fake import Customer, PaddleFake
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

ENV_DEFAULTS = {  # the template's values; set your own to override
    "POWERTOOLS_SERVICE_NAME": "paddle-portal",
    "POWERTOOLS_METRICS_NAMESPACE": "PaddlePortal",
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
    "POWERTOOLS_DEV": "true",  # readable logs and metrics on the console
    "PORTAL_ALLOWED_HOSTS": "customer-portal.paddle.com,sandbox-customer-portal.paddle.com",
    # Above CustomerSessionBurst's default (2): the banner's samples open five sessions for one customer in a row.
    "CUSTOMER_SESSION_BURST": "5",
}


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
        self.cleanups: list[Callable[[], None]] = []
        self._invoke_lock = threading.Lock()  # one execution environment runs one invocation at a time
        super().__init__(address, _RequestHandler)

    def call(self, request: HttpRequest) -> HttpResponse:
        # Throttled on arrival, as API Gateway does; only the invocation waits for the execution environment.
        return invoke(self._invoke_serially, request, self.authorizers, cors=self.cors, throttle=self.throttle)

    def _invoke_serially(self, event: dict[str, Any], context: Any) -> Any:
        with self._invoke_lock:
            return self.handler(event, context)

    def close(self) -> None:
        self.stop()
        while self.cleanups:
            self.cleanups.pop()()


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway
    server: GatewayServer

    def _serve(self) -> None:
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

    def log_message(self, format: str, *args: Any) -> None:
        # Like the template's access logs: no query strings (a signed link's query is a credential).
        line = re.sub(r"\?\S*", "", format % args)
        sys.stderr.write(f"{self.address_string()} {line}\n")


@dataclass
class OutsideServices:
    paddle_fake: PaddleFake | None
    paddle_description: str
    user_pool: UserPool
    stop: Callable[[], None]

    def authorizers(self) -> Authorizers:
        """API Gateway's checks for this run: the pool's JWTs for its app client, SigV4 with the local keys."""
        import urllib3

        jwks = urllib3.request("GET", self.user_pool.jwks_url, timeout=5).json()  # as API Gateway fetches it
        return Authorizers(
            iam=IamAuthorizer({SAMPLE_ACCESS_KEY: LOCAL_CALLER}, REGION),
            jwt=JwtAuthorizer(self.user_pool.issuer, [self.user_pool.client_id], jwks),
        )


def start_outside_services(environ: MutableMapping[str, str]) -> OutsideServices:
    """Moto's Secrets Manager (seeded with the key) and Cognito user pool and, without `PADDLE_API_KEY`, the Paddle
    fake; sets the env."""
    import boto3  # heavy imports only once the run starts
    import moto

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
    for name, value in ENV_DEFAULTS.items():
        environ.setdefault(name, value)
    mock = moto.mock_aws()
    mock.start()
    fake = None
    pool = None
    try:
        secrets = boto3.client("secretsmanager", region_name=REGION)
        secrets.create_secret(Name=SECRET_NAME, SecretString=json.dumps({"api_key": real_key or FAKE_API_KEY}))
        secrets.create_secret(Name=LINK_SECRET_NAME, SecretString=json.dumps(FAKE_LINK_KEYS))
        if not real_key:
            fake = PaddleFake(
                FAKE_API_KEY,
                sandbox=True,
                unknown_customers={UNKNOWN_CUSTOMER_ID},
                unknown_subscriptions={UNKNOWN_SUBSCRIPTION_ID},
                customers=FAKE_CUSTOMERS,
            )
            environ["PADDLE_API_BASE_URL"] = fake.url
        pool = start_user_pool(DEMO_USERS, REGION)
    except BaseException:
        if fake is not None:
            fake.stop()
        mock.stop()
        raise

    def stop() -> None:
        pool.stop()
        if fake is not None:
            fake.stop()
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
    return OutsideServices(fake, description, pool, stop)


def start_demo_page(services: OutsideServices, environ: MutableMapping[str, str]) -> DemoPage:
    """examples/web/ on its own origin, configured for this run's user pool (the API's URL comes once the gateway
    listens); its origin becomes CORS_ALLOWED_ORIGINS unless that is set, so the page can call the API."""
    pool = services.user_pool
    page = DemoPage(page_config("", pool.endpoint, pool.client_id, pool.region)).start("demo-page")
    environ.setdefault("CORS_ALLOWED_ORIGINS", page.origin)
    return page


def load_handler(dotted: str = HANDLER) -> Handler:
    module, _, name = dotted.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module), name)
    return handler


def serve(port: int = 0, host: str = "127.0.0.1", handler: Handler | None = None) -> GatewayServer:
    """Start the outside services, then the gateway in a daemon thread; returns the bound, serving server."""
    services = start_outside_services(os.environ)
    demo_page = None
    try:
        demo_page = start_demo_page(services, os.environ)  # before CORS_ALLOWED_ORIGINS is read below
        # The handler is imported after the environment is set.
        server = GatewayServer((host, port), handler or load_handler(), services.authorizers())
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
    server.cleanups.append(services.stop)
    demo_page.config["apiUrl"] = server.url
    server.demo_page = demo_page
    server.cleanups.append(demo_page.stop)
    # Signed links point back at this server. Only a loopback URL may be plain http (the function's settings refuse
    # http elsewhere), and the gateway's domainName here is the client's Host header, which the function never
    # derives a URL from; listening elsewhere, minting answers configuration_error unless you set an https URL.
    if urlsplit(server.url).hostname in LOOPBACK_HOSTS:
        os.environ.setdefault("PORTAL_LINK_BASE_URL", server.url)
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


def demo_user_lines(environ: Mapping[str, str]) -> list[str]:
    """`demo user: <email> <password> <what this user will see>`, for the function's customer lookup setting."""
    by_email = environ.get("CUSTOMER_LOOKUP", "claim").strip().lower() == "verified_email"
    claim = environ.get("CUSTOMER_ID_CLAIM") or "custom:paddle_customer_id"
    seen = {
        CLAIM_USER.email: f"their portal (customer {SAMPLE_CUSTOMER_ID}, from the {claim} claim"
        + (", and from their verified email)" if by_email else ")"),
        EMAIL_USER.email: (
            f"their portal (customer {EMAIL_CUSTOMER_ID}, found by their verified email)"
            if by_email
            else f"403 forbidden: no {claim} claim "
            f"(their portal, {EMAIL_CUSTOMER_ID}, when the function runs with CUSTOMER_LOOKUP=verified_email)"
        ),
        UNVERIFIED_USER.email: "refused (403 forbidden): no customer claim, and an email that is not verified",
    }
    return [f"demo user: {user.email} {user.password} {seen[user.email]}" for user in DEMO_USERS]


def token_command(pool: UserPool, email: str) -> str:
    """The shell command that signs a demo user in and prints their ID token."""
    python = Path(sys.executable)
    repo = Path(__file__).resolve().parent.parent
    if Path.cwd().resolve() == repo and python.is_relative_to(Path.cwd()):
        prefix = shlex.quote(str(python.relative_to(Path.cwd())))
    else:
        prefix = f"PYTHONPATH={shlex.quote(str(repo))} {shlex.quote(str(python))}"
    args = f"--endpoint {pool.endpoint} --client-id {pool.client_id} {shlex.quote(email)}"
    return f"{prefix} -m local.token {args}"


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
            f"            JWT routes take its ID tokens (issuer {pool.issuer}, audience {pool.client_id})"
        )
        jwt_samples = f"""
# Sign a demo user in (USER_PASSWORD_AUTH) and keep their ID token for the next commands (valid 1 hour)
TOKEN=$({token_command(pool, CLAIM_USER.email)})

# JWT route, customer from the token's claim (201)
curl -sS -X POST -H {bearer} {url}/portal-sessions

# JWT route, JSON instead of the redirect (200)
curl -sS -H 'Accept: application/json' -H {bearer} {url}/portal

# JWT route for pages: a signed link to the token's customer's portal, valid 60 s (201); the page navigates to it
curl -sS -X POST -H {bearer} {url}/portal-links
"""
    demo_users = "\n".join(demo_user_lines(environ))
    if server.demo_page is not None:
        page = server.demo_page
        allowed = server.cors is not None and server.cors.allows(page.origin)
        note = "sign in as a demo user, then Manage billing" if allowed else "NOT in CORS_ALLOWED_ORIGINS: calls fail"
        demo_users = f"demo page: {page.url}/  ({note})\n{demo_users}"
    return f"""
paddle-portal local API on {url}  (Ctrl-C stops)
  handler : {HANDLER}, called with API Gateway HTTP API payload 2.0 events
  secrets : moto Secrets Manager (in-process), secrets {SECRET_NAME} and {LINK_SECRET_NAME} (fake link key)
  paddle  : {server.paddle_description}
  links   : signed portal links point at {environ.get("PORTAL_LINK_BASE_URL") or "(no base URL)"}
{users}
  cors    : {", ".join(server.cors.allow_origins) if server.cors else "none (set CORS_ALLOWED_ORIGINS=<origin>,...)"}
  iam     : SigV4 for execute-api in {REGION}, signed with AWS's example keys {SAMPLE_ACCESS_KEY} / {SAMPLE_SECRET_KEY}
  The gateway verifies tokens and signatures as API Gateway does: a refused request never reaches the handler.

{demo_users}

# IAM route, JSON (201)
curl -sS {iam} -H 'Content-Type: application/json' -d {body} {url}/customers/{SAMPLE_CUSTOMER_ID}/portal-sessions

# IAM route, browser redirect (302; see Location)
curl -i {iam} {redirect}
{jwt_samples}
# Signed link, minted by a backend (IAM, 201): {{"data": {{"url", "expires_at"}}, "meta"}}; Paddle is not called yet
curl -sS {iam} -H 'Content-Type: application/json' -d {link_body} {url}/customers/{SAMPLE_CUSTOMER_ID}/portal-links

# Signed link, followed with no credentials (302 to a fresh session; open it in a browser too). Minted at startup:
{follow}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.server", description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for signum in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C and `kill` stop cleanly, however we were started
        signal.signal(signum, signal.default_int_handler)
    try:
        server = serve(args.port, args.host)
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("paddle_portal"):
            raise
        hint = "run from the repository root with PYTHONPATH=functions"
        print(f"cannot import {HANDLER} ({exc}); {hint}", file=sys.stderr)
        return 1
    except OSError as exc:  # the port is taken, most likely
        print(f"cannot listen on {args.host}:{args.port} ({exc}); try --port", file=sys.stderr)
        return 1
    print(banner(server, os.environ), flush=True)
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
