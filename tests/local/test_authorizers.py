"""The local gateway's authorizers, each check on its own: a key pair made here, requests signed by botocore.

The same checks against moto's user pool and real sockets are in test_local_auth.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from joserfc import jwt
from joserfc.jwk import RSAKey

from local.authorizers import (
    FORBIDDEN,
    INVALID_TOKEN,
    SIGNATURE_MISMATCH,
    IamAuthorizer,
    IamCaller,
    JwtAuthorizer,
    Refusal,
)
from tests.support import CUSTOMER_ID

NOW = 1_800_000_000
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_FAKEPOOL"
CLIENT_ID = "fakeclientid0000000000000"
KEY = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "key-1"})  # same kid, not the issuer's key
JWKS = {"keys": [KEY.as_dict(private=False)]}
JWT = JwtAuthorizer(ISSUER, [CLIENT_ID], JWKS, clock=lambda: NOW)


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "iat": NOW - 10,
        "exp": NOW + 3600,
        "email": "someone@example.com",
        "email_verified": True,
        "custom:paddle_customer_id": CUSTOMER_ID,
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def token(payload: dict[str, Any], key: Any = KEY, header: dict[str, Any] | None = None) -> str:
    return jwt.encode(header or {"alg": "RS256", "kid": "key-1"}, payload, key)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_valid_id_token_passes_with_every_claim_as_a_string() -> None:
    context = JWT.check(f"Bearer {token(claims(groups=['a', 'b']))}")

    assert not isinstance(context, Refusal)
    passed = context["jwt"]["claims"]
    assert passed["custom:paddle_customer_id"] == CUSTOMER_ID
    assert (passed["email_verified"], passed["exp"], passed["groups"]) == ("true", str(NOW + 3600), "[a b]")
    assert context["jwt"]["scopes"] is None


def test_the_bare_token_is_accepted_too() -> None:
    assert not isinstance(JWT.check(token(claims())), Refusal)


def test_an_access_token_passes_on_its_client_id_with_its_scopes() -> None:
    access = claims(aud=None, client_id=CLIENT_ID, token_use="access", scope="aws.cognito.signin.user.admin")

    context = JWT.check(f"Bearer {token(access)}")

    assert not isinstance(context, Refusal)
    assert context["jwt"]["claims"]["client_id"] == CLIENT_ID
    assert context["jwt"]["scopes"] == ["aws.cognito.signin.user.admin"]


def _tampered() -> str:
    header, _, signature = token(claims()).split(".")
    return f"{header}.{b64(claims(**{'custom:paddle_customer_id': 'ctm_' + '1' * 26}))}.{signature}"


def _hs256_with_the_public_key() -> str:
    # The classic algorithm confusion: HMAC keyed with the RSA public key that verifiers hold (made by hand: joserfc
    # refuses to build such a key).
    signing_input = f"{b64({'alg': 'HS256', 'kid': 'key-1'})}.{b64(claims())}"
    mac = hmac.new(KEY.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="absent"),
        pytest.param("", id="empty"),
        pytest.param("Bearer not-a-jwt", id="not-a-jwt"),
        pytest.param(_tampered(), id="payload-tampered"),
        pytest.param(token(claims(), OTHER_KEY), id="signed-by-another-key"),
        pytest.param(f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}.", id="alg-none-unsigned"),
        pytest.param(_hs256_with_the_public_key(), id="hs256-keyed-with-public-key"),
        pytest.param(token(claims(), header={"alg": "RS256", "kid": "unknown"}), id="unknown-kid"),
        pytest.param(token(claims(), header={"alg": "RS256"}), id="no-kid"),
        pytest.param(token(claims(exp=NOW - 1)), id="expired"),
        pytest.param(token(claims(exp=NOW)), id="expires-now"),
        pytest.param(token(claims(exp=None)), id="no-exp"),
        pytest.param(token(claims(exp=str(NOW + 3600))), id="exp-a-string"),
        pytest.param(token(claims(nbf=NOW + 60)), id="not-yet-valid"),
        pytest.param(token(claims(iat=NOW + 60)), id="issued-in-the-future"),
        pytest.param(token(claims(iss=ISSUER + "x")), id="wrong-issuer"),
        pytest.param(token(claims(iss=None)), id="no-issuer"),
        pytest.param(token(claims(aud="another-client")), id="wrong-audience"),
        pytest.param(token(claims(aud=None)), id="no-audience"),
        pytest.param(token(claims(aud="another-client", client_id=CLIENT_ID)), id="aud-wins-over-client-id"),
    ],
)
def test_tokens_api_gateway_refuses_get_401(authorization: str | None) -> None:
    assert JWT.check(authorization) == Refusal(401, "Unauthorized")


# --- SigV4 ---------------------------------------------------------------------------------------------------------

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "FAKE-secret-of-the-authorizer-tests"
CALLER = IamCaller(SECRET_KEY, "arn:aws:iam::123456789012:user/tester", "AIDATESTER", "123456789012")
IAM = IamAuthorizer({ACCESS_KEY: CALLER}, "us-east-1", clock=lambda: NOW)
HOST = "127.0.0.1:3000"
TARGET = f"/customers/{CUSTOMER_ID}/portal?action=overview&subscription_id=sub_1"
BODY = b'{"subscription_ids":[]}'


def sign(
    method: str = "POST",
    target: str = TARGET,
    body: bytes = BODY,
    secret: str = SECRET_KEY,
    at: float = NOW,
    service: str = "execute-api",
    region: str = "us-east-1",
    headers: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    """Headers as botocore's `add_auth` makes them, at time `at` (add_auth itself stamps the current time)."""
    request = AWSRequest(
        method=method, url=f"http://{HOST}{target}", data=body, headers={"Host": HOST, **(headers or {})}
    )
    request.context["timestamp"] = datetime.fromtimestamp(at, UTC).strftime("%Y%m%dT%H%M%SZ")
    request.headers["X-Amz-Date"] = request.context["timestamp"]
    auth = SigV4Auth(Credentials(ACCESS_KEY, secret), service, region)
    signature = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{auth.credential_scope(request)}, "
        f"SignedHeaders={auth.signed_headers(auth.headers_to_sign(request))}, Signature={signature}"
    )
    return list(request.headers.items())


def check(headers: list[tuple[str, str]], method: str = "POST", target: str = TARGET, body: bytes = BODY) -> Any:
    return IAM.check(method, target, headers, body)


def test_a_request_signed_with_the_local_key_passes_as_that_caller() -> None:
    context = check(sign(headers={"Content-Type": "application/json"}))

    assert not isinstance(context, Refusal)
    assert context["iam"]["accessKey"] == ACCESS_KEY
    assert context["iam"]["userArn"] == CALLER.user_arn


def test_skew_within_five_minutes_passes() -> None:
    assert not isinstance(check(sign(at=NOW - 299)), Refusal)
    assert not isinstance(check(sign(at=NOW + 299)), Refusal)


def _without(headers: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() != name]


def _swap_key(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v.replace(ACCESS_KEY, "AKIAI44QH8DHBEXAMPLE")) for k, v in headers]


@pytest.mark.parametrize(
    ("headers", "method", "target", "body", "message"),
    [
        pytest.param([("Host", HOST)], "POST", TARGET, BODY, FORBIDDEN, id="unsigned"),
        pytest.param(_without(sign(), "authorization"), "POST", TARGET, BODY, FORBIDDEN, id="no-authorization"),
        pytest.param(_without(sign(), "x-amz-date"), "POST", TARGET, BODY, FORBIDDEN, id="no-date"),
        pytest.param(_swap_key(sign()), "POST", TARGET, BODY, INVALID_TOKEN, id="unknown-access-key"),
        pytest.param(sign(secret="wrong"), "POST", TARGET, BODY, SIGNATURE_MISMATCH, id="wrong-secret"),
        pytest.param(sign(), "POST", TARGET, BODY + b" ", SIGNATURE_MISMATCH, id="body-altered"),
        pytest.param(sign(), "POST", TARGET + "x", BODY, SIGNATURE_MISMATCH, id="query-altered"),
        pytest.param(
            sign(), "POST", TARGET.replace(CUSTOMER_ID, "ctm_" + "1" * 26), BODY, SIGNATURE_MISMATCH, id="path-altered"
        ),
        pytest.param(sign(), "GET", TARGET, BODY, SIGNATURE_MISMATCH, id="method-altered"),
        pytest.param(sign(service="s3"), "POST", TARGET, BODY, SIGNATURE_MISMATCH, id="other-service"),
        pytest.param(sign(region="eu-west-1"), "POST", TARGET, BODY, SIGNATURE_MISMATCH, id="other-region"),
        pytest.param(
            [(k, "text/plain" if k == "Content-Type" else v) for k, v in sign(headers={"Content-Type": "a/b"})],
            "POST",
            TARGET,
            BODY,
            SIGNATURE_MISMATCH,
            id="signed-header-altered",
        ),
        pytest.param(
            sign(body=b"{}", headers={"X-Amz-Content-Sha256": hashlib.sha256(b"{}").hexdigest()}),
            "POST",
            TARGET,
            BODY,
            SIGNATURE_MISMATCH,
            id="content-sha256-of-another-body",
        ),
    ],
)
def test_requests_api_gateway_refuses_get_403(
    headers: list[tuple[str, str]], method: str, target: str, body: bytes, message: str
) -> None:
    assert check(headers, method, target, body) == Refusal(403, message)


@pytest.mark.parametrize(
    ("at", "prefix"),
    [
        pytest.param(NOW - 301, "Signature expired: ", id="too-old"),
        pytest.param(NOW + 301, "Signature not yet current: ", id="too-new"),
    ],
)
def test_a_date_more_than_five_minutes_away_is_refused(at: float, prefix: str) -> None:
    refusal = check(sign(at=at))

    assert isinstance(refusal, Refusal)
    assert refusal.status == 403
    assert refusal.message.startswith(prefix)
    assert json.loads(refusal.body()) == {"message": refusal.message}
