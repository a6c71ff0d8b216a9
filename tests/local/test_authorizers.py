"""The local gateway's authorizers, each check on its own, as API Gateway HTTP API runs them: a key pair made here,
requests signed by botocore. The same checks against moto's user pool on real sockets: test_local_auth.py."""

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

from local.authorizers import FORBIDDEN, INVALID_TOKEN, IamAuthorizer, IamCaller, JwtAuthorizer, Refusal
from local.authorizers import SIGNATURE_MISMATCH as MISMATCH
from tests.support import CUSTOMER_ID

NOW = 1_800_000_000
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_FAKEPOOL"
CLIENT_ID = "fakeclientid0000000000000"
KEY = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "key-1"})  # same kid, not the issuer's key
JWT = JwtAuthorizer(ISSUER, [CLIENT_ID], {"keys": [KEY.as_dict(private=False)]}, clock=lambda: NOW)


def claims(**changes: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "aud": CLIENT_ID, "token_use": "id", "iat": NOW - 10, "exp": NOW + 3600,
            "email": "a@example.com", "email_verified": True, "custom:paddle_customer_id": CUSTOMER_ID}  # fmt: skip
    return {name: value for name, value in {**base, **changes}.items() if value is not None}


def token(payload: dict[str, Any], key: Any = KEY, header: dict[str, Any] | None = None) -> str:
    return jwt.encode(header or {"alg": "RS256", "kid": "key-1"}, payload, key)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _tampered() -> str:
    header, _, signature = token(claims()).split(".")
    return f"{header}.{b64(claims(**{'custom:paddle_customer_id': 'ctm_' + '1' * 26}))}.{signature}"


def _hs256_with_the_public_key() -> str:
    """The classic algorithm confusion: HMAC keyed with the RSA public key verifiers hold (joserfc refuses to make
    such a token, so by hand)."""
    signing_input = f"{b64({'alg': 'HS256', 'kid': 'key-1'})}.{b64(claims())}"
    mac = hmac.new(KEY.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


@pytest.mark.parametrize(
    ("authorization", "passed", "scopes"),
    [
        pytest.param(f"Bearer {token(claims(groups=['a', 'b']))}", {"email_verified": "true", "exp": str(NOW + 3600),
                     "groups": "[a b]", "custom:paddle_customer_id": CUSTOMER_ID}, None, id="id-token"),
        pytest.param(token(claims()), {"aud": CLIENT_ID}, None, id="bare-token"),
        pytest.param(token(claims(aud=None, client_id=CLIENT_ID, token_use="access", scope="aws.cognito.signin.x y")),
                     {"client_id": CLIENT_ID}, ["aws.cognito.signin.x", "y"], id="access-token-by-client-id"),
    ],
)  # fmt: skip
def test_a_valid_token_passes_with_every_claim_as_a_string(
    authorization: str, passed: dict[str, str], scopes: list[str] | None
) -> None:
    context = JWT.check(authorization)

    assert not isinstance(context, Refusal)
    assert context["jwt"]["claims"] | passed == context["jwt"]["claims"]
    assert all(isinstance(value, str) for value in context["jwt"]["claims"].values())  # as HTTP API passes them
    assert context["jwt"]["scopes"] == scopes


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="absent"),
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

ACCESS_KEY, SECRET_KEY = "AKIAIOSFODNN7EXAMPLE", "FAKE-secret-of-the-authorizer-tests"
CALLER = IamCaller(SECRET_KEY, "arn:aws:iam::123456789012:user/tester", "AIDATESTER", "123456789012")
IAM = IamAuthorizer({ACCESS_KEY: CALLER}, "us-east-1", clock=lambda: NOW)
HOST, TARGET = "127.0.0.1:3000", f"/customers/{CUSTOMER_ID}/portal?action=overview&x=1"
BODY = b'{"subscription_ids":[]}'


def sign(at: float = NOW, secret: str = SECRET_KEY, body: bytes = BODY, service: str = "execute-api",
         region: str = "us-east-1", headers: dict[str, str] | None = None) -> list[tuple[str, str]]:  # fmt: skip
    """Headers as botocore's `add_auth` makes them, at time `at` (add_auth itself stamps the current time)."""
    request = AWSRequest("POST", f"http://{HOST}{TARGET}", data=body, headers={"Host": HOST, **(headers or {})})
    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y%m%dT%H%M%SZ")
    request.context["timestamp"] = request.headers["X-Amz-Date"] = stamp
    auth = SigV4Auth(Credentials(ACCESS_KEY, secret), service, region)
    signature = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{auth.credential_scope(request)}, "
        f"SignedHeaders={auth.signed_headers(auth.headers_to_sign(request))}, Signature={signature}"
    )
    return list(request.headers.items())


def edit(headers: list[tuple[str, str]], name: str, value: str | None) -> list[tuple[str, str]]:
    """`headers` with one header dropped (None) or its value changed."""
    return [(k, value if k.lower() == name else v) for k, v in headers if k.lower() != name or value is not None]


@pytest.mark.parametrize("at", [NOW - 299, NOW, NOW + 299], ids=["299s-old", "now", "299s-ahead"])
def test_a_request_signed_with_the_local_key_passes_as_that_caller(at: float) -> None:
    context = IAM.check("POST", TARGET, sign(at, headers={"Content-Type": "application/json"}), BODY)

    assert not isinstance(context, Refusal)
    assert (context["iam"]["accessKey"], context["iam"]["userArn"]) == (ACCESS_KEY, CALLER.user_arn)


@pytest.mark.parametrize(
    ("headers", "method", "target", "body", "message"),
    [
        pytest.param(edit(sign(), "authorization", None), "POST", TARGET, BODY, FORBIDDEN, id="no-authorization"),
        pytest.param(edit(sign(), "x-amz-date", None), "POST", TARGET, BODY, FORBIDDEN, id="no-date"),
        pytest.param([(k, v.replace(ACCESS_KEY, "AKIAI44QH8DHBEXAMPLE")) for k, v in sign()], "POST", TARGET, BODY,
                     INVALID_TOKEN, id="unknown-access-key"),
        pytest.param(sign(secret="wrong"), "POST", TARGET, BODY, MISMATCH, id="wrong-secret"),
        pytest.param(sign(), "POST", TARGET, BODY + b" ", MISMATCH, id="body-altered"),
        pytest.param(sign(), "POST", TARGET + "x", BODY, MISMATCH, id="query-altered"),
        pytest.param(sign(), "GET", TARGET, BODY, MISMATCH, id="method-altered"),
        pytest.param(sign(service="s3"), "POST", TARGET, BODY, MISMATCH, id="other-service"),
        pytest.param(sign(region="eu-west-1"), "POST", TARGET, BODY, MISMATCH, id="other-region"),
        pytest.param(edit(sign(headers={"Content-Type": "a/b"}), "content-type", "text/plain"), "POST", TARGET, BODY,
                     MISMATCH, id="signed-header-altered"),
        pytest.param(sign(body=b"{}", headers={"X-Amz-Content-Sha256": hashlib.sha256(b"{}").hexdigest()}), "POST",
                     TARGET, BODY, MISMATCH, id="content-sha256-of-another-body"),
        pytest.param(sign(NOW - 301), "POST", TARGET, BODY, "Signature expired: ", id="more-than-5-min-old"),
        pytest.param(sign(NOW + 301), "POST", TARGET, BODY, "Signature not yet current: ", id="more-than-5-min-ahead"),
    ],
)  # fmt: skip
def test_requests_api_gateway_refuses_get_403(
    headers: list[tuple[str, str]], method: str, target: str, body: bytes, message: str
) -> None:
    refusal = IAM.check(method, target, headers, body)

    assert isinstance(refusal, Refusal)
    assert (refusal.status, refusal.message[: len(message)]) == (403, message)  # the skew messages go on with dates
    assert json.loads(refusal.body()) == {"message": refusal.message}
