"""An Amazon Cognito user pool for the local run: moto's, behind a loopback endpoint that behaves as Cognito does.

`start_user_pool()` (moto's mock must be active) creates a pool with the custom attribute `paddle_customer_id`, one
app client (no secret, USER_PASSWORD_AUTH) whose `WriteAttributes` leave that attribute out, and the demo users, then
serves Cognito's JSON API on 127.0.0.1 so that any SDK, `local.token` or a browser can sign in against it:

- requests go to moto's Cognito in this process (its tokens are real RS256 JWTs, `iss` as Cognito's);
- `GET /<pool id>/.well-known/jwks.json` is the pool's key set, as on Cognito's issuer URL;
- moto does not enforce an app client's `WriteAttributes`; this endpoint does, as Cognito does: `SignUp` and
  `UpdateUserAttributes` naming an attribute the client may not write answer `NotAuthorizedException`. So a user
  cannot set their own `custom:paddle_customer_id`; only an admin call (`AdminUpdateUserAttributes`) can;
- CORS is open (Cognito's endpoint answers any origin), for a sign-in page on another local origin.

The demo users' passwords are obvious fakes, printed by the banner: this pool exists only in memory.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from local.loopback import LoopbackServer

REGION = "us-east-1"
POOL_NAME = "paddle-portal-local"
CUSTOMER_ATTRIBUTE = "custom:paddle_customer_id"
# Printed by the banner; the pool lives in memory only.
DEMO_PASSWORD = "Demo-Passw0rd-FAKE"  # noqa: S105  # pragma: allowlist secret
TARGET_PREFIX = "AWSCognitoIdentityProviderService."
# Operations in which the caller names attributes to write as the app client (Cognito checks WriteAttributes).
CLIENT_WRITES = {"SignUp": "UserAttributes", "UpdateUserAttributes": "UserAttributes"}
UNAUTHORIZED_ATTRIBUTE = "A client attempted to write unauthorized attribute"
CORS_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    ("Access-Control-Allow-Headers", "content-type, x-amz-target, x-amz-user-agent, authorization"),
    ("Access-Control-Max-Age", "600"),
)


@dataclass(frozen=True)
class DemoUser:
    email: str
    email_verified: bool
    customer_id: str | None  # the custom attribute, set by an admin (a backend), never by the user
    password: str = DEMO_PASSWORD

    def attributes(self) -> list[dict[str, str]]:
        attributes = [
            {"Name": "email", "Value": self.email},
            {"Name": "email_verified", "Value": "true" if self.email_verified else "false"},
        ]
        if self.customer_id:
            attributes.append({"Name": CUSTOMER_ATTRIBUTE, "Value": self.customer_id})
        return attributes


@dataclass
class UserPool:
    endpoint: str  # this local Cognito endpoint (what `endpoint_url` points an SDK at)
    pool_id: str
    client_id: str
    region: str = REGION
    stop: Callable[[], None] = field(default=lambda: None, repr=False)

    @property
    def issuer(self) -> str:
        """What API Gateway's JWT authorizer is configured with, and the tokens' `iss`: Cognito's issuer URL."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.endpoint}/{self.pool_id}/.well-known/jwks.json"


# moto's own switch for ids derived from what is created (a hash of region, name and configuration) instead of random
# ones: the pool and app client ids, and so the tokens' `iss` and `aud`, stay the same from one run to the next. moto
# signs every pool's tokens with one fixed key, so a token copied before a restart still verifies after it.
STABLE_IDS = {
    "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
}


@contextmanager
def _stable_ids() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in STABLE_IDS}
    os.environ.update(STABLE_IDS)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def start_user_pool(users: Iterable[DemoUser], region: str = REGION, port: int = 0) -> UserPool:
    """Create the pool, its app client and `users` in moto (its mock must be active), and serve it on 127.0.0.1:`port`
    (0: any free port). The pool and app client ids are the same on every run."""
    import boto3

    cognito = boto3.client("cognito-idp", region_name=region)
    with _stable_ids():
        pool_id, client = _create_pool(cognito)
    for user in users:
        cognito.admin_create_user(
            UserPoolId=pool_id, Username=user.email, UserAttributes=user.attributes(), MessageAction="SUPPRESS"
        )
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=user.email, Password=user.password, Permanent=True)
    writable = {client["ClientId"]: frozenset(client.get("WriteAttributes") or ())}
    server = CognitoEndpoint(("127.0.0.1", port), region, writable).start("local-cognito")
    return UserPool(server.url, pool_id, client["ClientId"], region, server.stop)


def _create_pool(cognito: Any) -> tuple[str, dict[str, Any]]:
    pool_id: str = cognito.create_user_pool(
        PoolName=POOL_NAME,
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Schema=[
            {
                "Name": CUSTOMER_ATTRIBUTE.removeprefix("custom:"),
                "AttributeDataType": "String",
                "Mutable": True,  # a backend sets it after checkout (AdminUpdateUserAttributes)
                "StringAttributeConstraints": {"MinLength": "30", "MaxLength": "30"},
            }
        ],
    )["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="paddle-portal-local-web",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ReadAttributes=["email", "email_verified", CUSTOMER_ATTRIBUTE],
        WriteAttributes=["email", "name"],  # not the customer id: a user could name anyone's customer
    )["UserPoolClient"]
    return pool_id, client


def sign_in(endpoint: str, client_id: str, email: str, password: str, region: str = REGION) -> dict[str, Any]:
    """USER_PASSWORD_AUTH against `endpoint`, unsigned as a browser does: Cognito's `AuthenticationResult`."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    cognito = boto3.client(
        "cognito-idp", region_name=region, endpoint_url=endpoint, config=Config(signature_version=UNSIGNED)
    )
    answer = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": password}
    )
    result: dict[str, Any] = answer["AuthenticationResult"]
    return result


class CognitoEndpoint(LoopbackServer):
    def __init__(self, address: tuple[str, int], region: str, writable: Mapping[str, frozenset[str]]) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        self.region = region
        self.writable = dict(writable)  # app client id -> attributes it may write
        self.moto = BotocoreStubber()  # routes a request to moto's Cognito, as moto's own mock does
        self.moto_lock = threading.Lock()
        super().__init__(address, _CognitoRequestHandler)

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        from botocore.awsrequest import AWSPreparedRequest

        operation = headers.get("x-amz-target", "").removeprefix(TARGET_PREFIX)
        if method == "POST" and operation in CLIENT_WRITES and not self._may_write(operation, body):
            error = {"__type": "NotAuthorizedException", "message": UNAUTHORIZED_ATTRIBUTE}
            return 400, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(error).encode()
        request = AWSPreparedRequest(
            method=method,
            url=f"https://cognito-idp.{self.region}.amazonaws.com{path}",
            headers=headers,  # type: ignore[arg-type]
            body=body,
            stream_output=False,
        )
        with self.moto_lock:  # moto's backends are not made for concurrent writes
            answer = self.moto.process_request(request)
        if answer is None:
            return 404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}'
        status, answer_headers, data = answer
        return (
            status,
            {str(k): str(v) for k, v in answer_headers.items()},
            data if isinstance(data, bytes) else data.encode(),
        )

    def _may_write(self, operation: str, body: bytes) -> bool:
        """Whether the app client behind this call may write every attribute it names (unknown clients and tokens
        pass: Cognito refuses them anyway, with its own error)."""
        try:
            payload = json.loads(body)
            names = {str(a["Name"]) for a in payload.get(CLIENT_WRITES[operation]) or []}
            client_id = payload.get("ClientId") if operation == "SignUp" else _client_of(payload.get("AccessToken"))
        except (ValueError, TypeError, KeyError, AttributeError):
            return True
        allowed = self.writable.get(str(client_id))
        return allowed is None or names <= allowed


def _client_of(access_token: Any) -> str | None:
    """The `client_id` claim of an access token, unverified (moto checks the token itself when it is forwarded)."""
    try:
        payload = str(access_token).split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return None
    return claims.get("client_id") if isinstance(claims, dict) else None


class _CognitoRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CognitoEndpoint

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers: dict[str, str]
        if self.command == "OPTIONS":
            status, headers, data = 204, {}, b""
        else:
            lowered = {name.lower(): value for name, value in self.headers.items()}
            status, headers, data = self.server.answer(self.command, self.path, lowered, body)
        self.send_response(status)
        for name, value in [*headers.items(), *CORS_HEADERS]:
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: request bodies carry passwords and tokens
