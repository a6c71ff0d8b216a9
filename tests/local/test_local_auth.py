"""The local run authenticates as API Gateway does: moto's user pool, real sockets, the real handler behind a spy.

Tokens with a good signature but a bad claim are signed with the pool's own key (moto's published test key), so
each claim check is proved on its own, not only the signature check.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import urllib3
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from joserfc import jwt
from joserfc.jwk import RSAKey
from moto.utilities.utils import load_resource

from local.cognito import CUSTOMER_ATTRIBUTE, UNAUTHORIZED_ATTRIBUTE, UserPool, sign_in
from local.server import (
    CLAIM_USER,
    EMAIL_CUSTOMER_ID,
    EMAIL_USER,
    SAMPLE_ACCESS_KEY,
    SAMPLE_SECRET_KEY,
    UNVERIFIED_USER,
    GatewayServer,
    serve,
)
from paddle_portal.app import lambda_handler
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID

UNAUTHORIZED = {"message": "Unauthorized"}


@pytest.fixture
def calls() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def api(calls: list[dict[str, Any]], restore_environ: None) -> Iterator[GatewayServer]:
    def spy(event: dict[str, Any], context: Any) -> Any:  # the real handler, counted
        calls.append(event)
        return lambda_handler(event, context)

    server = serve(port=0, handler=spy)
    yield server
    server.close()


def pool_of(api: GatewayServer) -> UserPool:
    assert api.user_pool is not None
    return api.user_pool


def tokens(api: GatewayServer, email: str) -> dict[str, Any]:
    return sign_in(pool_of(api).endpoint, pool_of(api).client_id, email, CLAIM_USER.password)


def forged(api: GatewayServer, **changes: Any) -> str:
    """A token signed with the pool's own key, with the claims of the claim user's ID token changed."""
    payload = part(tokens(api, CLAIM_USER.email)["IdToken"], 1)
    payload.update(changes)
    payload = {name: value for name, value in payload.items() if value is not None}
    private = RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))  # moto's signing key
    return jwt.encode({"alg": "RS256", "kid": "dummy"}, payload, private)


def part(token: str, index: int) -> dict[str, Any]:
    data = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
    return decoded


def post(api: GatewayServer, path: str, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
    return urllib3.request("POST", f"{api.url}{path}", headers=headers)


def test_the_claim_users_id_token_opens_their_portal(api: GatewayServer, calls: list[dict[str, Any]]) -> None:
    response = post(api, "/portal-sessions", {"Authorization": f"Bearer {tokens(api, CLAIM_USER.email)['IdToken']}"})

    assert response.status == 201
    assert response.json()["data"]["customer_id"] == CUSTOMER_ID
    claims = calls[0]["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims[CUSTOMER_ATTRIBUTE] == CUSTOMER_ID
    assert (claims["email"], claims["email_verified"], claims["token_use"]) == (CLAIM_USER.email, "true", "id")
    assert claims["iss"] == pool_of(api).issuer
    assert all(isinstance(value, str) for value in claims.values())  # as HTTP API passes them


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        pytest.param({"exp": int(time.time()) - 1}, "expired", id="expired"),
        pytest.param({"nbf": int(time.time()) + 600}, "not yet valid", id="not-yet-valid"),
        pytest.param({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}, "issuer", id="issuer"),
        pytest.param({"aud": "another-app-client"}, "audience", id="audience"),
    ],
)
def test_well_signed_tokens_with_a_bad_claim_get_401(
    api: GatewayServer, calls: list[dict[str, Any]], changes: dict[str, Any], why: str
) -> None:
    response = post(api, "/portal-sessions", {"Authorization": f"Bearer {forged(api, **changes)}"})

    assert (response.status, response.json()) == (401, UNAUTHORIZED), why
    assert calls == []


def test_the_forging_key_is_the_pools_key(api: GatewayServer) -> None:
    # The control for the test above: unchanged claims, same key, accepted.
    response = post(api, "/portal-sessions", {"Authorization": f"Bearer {forged(api)}"})

    assert response.status == 201


def _tamper(token: str) -> str:
    header, _, signature = token.split(".")
    claims = part(token, 1) | {CUSTOMER_ATTRIBUTE: OTHER_CUSTOMER_ID}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def _unsigned(token: str) -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return f"{header}.{token.split('.')[1]}."


def _hs256(token: str) -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","kid":"dummy"}').rstrip(b"=").decode()
    return f"{header}.{token.split('.')[1]}.{token.split('.')[2]}"


@pytest.mark.parametrize("alter", [_tamper, _unsigned, _hs256], ids=["tampered", "alg-none", "hs256"])
def test_altered_tokens_get_401_and_the_function_is_not_called(
    api: GatewayServer, calls: list[dict[str, Any]], alter: Any
) -> None:
    token = alter(tokens(api, CLAIM_USER.email)["IdToken"])

    responses = [
        post(api, "/portal-sessions", {"Authorization": f"Bearer {token}"}),
        urllib3.request("GET", f"{api.url}/portal", headers={"Authorization": token}),
    ]

    assert [(r.status, r.json()) for r in responses] == [(401, UNAUTHORIZED)] * 2
    assert calls == []
    assert api.paddle_fake is not None
    assert api.paddle_fake.requests == []


def test_an_access_token_passes_the_authorizer_and_the_function_refuses_it(
    api: GatewayServer, calls: list[dict[str, Any]]
) -> None:
    # Cognito's access token: client_id instead of aud, no email, no custom attributes
    access = tokens(api, CLAIM_USER.email)["AccessToken"]

    response = post(api, "/portal-sessions", {"Authorization": f"Bearer {access}"})

    assert (response.status, response.json()["error"]["code"]) == (403, "forbidden")
    claims = calls[0]["requestContext"]["authorizer"]["jwt"]["claims"]
    assert (claims["client_id"], claims["token_use"]) == (pool_of(api).client_id, "access")
    assert CUSTOMER_ATTRIBUTE not in claims
    assert "email" not in claims


@pytest.mark.parametrize(
    ("user", "verified"),
    [pytest.param(EMAIL_USER, "true", id="email-only"), pytest.param(UNVERIFIED_USER, "false", id="unverified")],
)
def test_users_without_the_claim_reach_the_function_and_are_refused_there(
    api: GatewayServer, calls: list[dict[str, Any]], user: Any, verified: str
) -> None:
    response = post(api, "/portal-sessions", {"Authorization": f"Bearer {tokens(api, user.email)['IdToken']}"})

    assert (response.status, response.json()["error"]["code"]) == (403, "forbidden")
    claims = calls[0]["requestContext"]["authorizer"]["jwt"]["claims"]
    assert (claims["email"], claims["email_verified"]) == (user.email, verified)
    assert CUSTOMER_ATTRIBUTE not in claims


def test_the_paddle_fake_knows_the_email_users_customer(api: GatewayServer) -> None:
    # What the function's verified_email lookup asks Paddle
    assert api.paddle_fake is not None
    status, answer = api.paddle_fake.answer(
        "GET",
        f"/customers?email={EMAIL_USER.email}&status=active",
        {"authorization": f"Bearer {api.paddle_fake.api_key}"},
        b"",
    )

    assert (status, [c["id"] for c in answer["data"]]) == (200, [EMAIL_CUSTOMER_ID])


# --- SigV4 on the wire ------------------------------------------------------------------------------------------


def signed(method: str, url: str, body: bytes = b"", secret: str = SAMPLE_SECRET_KEY) -> dict[str, str]:
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(SAMPLE_ACCESS_KEY, secret), "execute-api", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_sigv4_refusals_on_the_wire(api: GatewayServer, calls: list[dict[str, Any]]) -> None:
    url = f"{api.url}/customers/{CUSTOMER_ID}/portal-sessions"
    body = b'{"subscription_ids":[]}'
    old = signed("POST", url, body)
    old["X-Amz-Date"] = "20200101T000000Z"  # and the signature no longer matches either: the date is checked first

    answers = {
        "wrong-secret": urllib3.request("POST", url, body=body, headers=signed("POST", url, body, "wrong-FAKE")),
        "body-altered": urllib3.request("POST", url, body=body + b" ", headers=signed("POST", url, body)),
        "query-added": urllib3.request("POST", f"{url}?a=1", body=body, headers=signed("POST", url, body)),
        "old-date": urllib3.request("POST", url, body=body, headers=old),
        "unsigned": urllib3.request("POST", url, body=body),
    }

    assert {name: r.status for name, r in answers.items()} == dict.fromkeys(answers, 403)
    assert answers["wrong-secret"].json()["message"].startswith("The request signature we calculated does not match")
    assert answers["old-date"].json()["message"].startswith("Signature expired: 20200101T000000Z is now earlier than")
    assert answers["unsigned"].json() == {"message": "Forbidden"}
    assert calls == []
    assert urllib3.request("POST", url, body=body, headers=signed("POST", url, body)).status == 201  # the control


# --- the user pool --------------------------------------------------------------------------------------------------


def user_client(pool: UserPool) -> Any:
    return boto3.client(
        "cognito-idp", region_name=pool.region, endpoint_url=pool.endpoint, config=Config(signature_version=UNSIGNED)
    )


def test_a_user_cannot_write_their_own_customer_id(api: GatewayServer) -> None:
    pool = pool_of(api)
    access = tokens(api, EMAIL_USER.email)["AccessToken"]

    with pytest.raises(ClientError) as refused:
        user_client(pool).update_user_attributes(
            AccessToken=access, UserAttributes=[{"Name": CUSTOMER_ATTRIBUTE, "Value": OTHER_CUSTOMER_ID}]
        )
    user_client(pool).update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "name", "Value": "Emil"}])

    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("NotAuthorizedException", UNAUTHORIZED_ATTRIBUTE)
    attributes = {a["Name"]: a["Value"] for a in user_client(pool).get_user(AccessToken=access)["UserAttributes"]}
    assert CUSTOMER_ATTRIBUTE not in attributes
    assert attributes["name"] == "Emil"  # a writable attribute still goes through


def test_nor_set_it_when_signing_up(api: GatewayServer) -> None:
    with pytest.raises(ClientError) as refused:
        user_client(pool_of(api)).sign_up(
            ClientId=pool_of(api).client_id,
            Username="new-user@example.com",
            Password=CLAIM_USER.password,
            UserAttributes=[{"Name": CUSTOMER_ATTRIBUTE, "Value": OTHER_CUSTOMER_ID}],
        )

    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_a_backend_sets_it_with_admin_update_and_the_next_token_carries_it(api: GatewayServer) -> None:
    # Given a backend learned the user's Paddle customer (after checkout)
    pool = pool_of(api)
    boto3.client("cognito-idp", region_name=pool.region).admin_update_user_attributes(
        UserPoolId=pool.pool_id,
        Username=EMAIL_USER.email,
        UserAttributes=[{"Name": CUSTOMER_ATTRIBUTE, "Value": EMAIL_CUSTOMER_ID}],
    )

    # When the user signs in again
    response = post(api, "/portal-sessions", {"Authorization": f"Bearer {tokens(api, EMAIL_USER.email)['IdToken']}"})

    # Then their new token opens their portal
    assert (response.status, response.json()["data"]["customer_id"]) == (201, EMAIL_CUSTOMER_ID)


def test_the_pool_endpoint_serves_its_keys_and_answers_cors(api: GatewayServer) -> None:
    pool = pool_of(api)

    keys = urllib3.request("GET", pool.jwks_url)
    preflight = urllib3.request("OPTIONS", f"{pool.endpoint}/", headers={"Origin": "http://127.0.0.1:8000"})

    assert [key["kid"] for key in keys.json()["keys"]] == ["dummy"]
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "x-amz-target" in preflight.headers["Access-Control-Allow-Headers"]
