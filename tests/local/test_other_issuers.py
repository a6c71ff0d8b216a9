"""The JWT routes with issuers other than Cognito (docs/identity.md's provider table): tokens shaped like Auth0's
(an issuer ending in "/", `aud` a list, a namespaced customer claim, JSON `email_verified`) and Entra ID's (a v2.0
issuer, a directory-extension claim, no `email_verified`), signed by a local JWKS, through the local gateway's JWT
authorizer (as API Gateway's: claims become strings) to the real handler, in both lookup modes."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import urllib3
from joserfc import jwt
from joserfc.jwk import RSAKey

from local.authorizers import JwtAuthorizer
from local.server import CLAIM_USER, EMAIL_CUSTOMER_ID, EMAIL_USER, SAMPLE_CUSTOMER_ID, GatewayServer, serve

KEY = RSAKey.generate_key(2048, parameters={"kid": "provider-key"})
AUTH0 = {
    "iss": "https://example-tenant.us.auth0.com/",
    "aud": ["https://billing.example.com", "https://example-tenant.us.auth0.com/userinfo"],
    "https://example.com/paddle_customer_id": SAMPLE_CUSTOMER_ID,  # Auth0 requires namespaced custom claims
    "email": EMAIL_USER.email,
    "email_verified": True,  # JSON true: HTTP API hands it on as "true"
}
ENTRA = {
    "iss": "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
    "aud": "6cb04018-a3f5-46a7-b995-940c78f5aef3",
    "extension_6cb04018a3f546a7b995940c78f5aef3_paddle_customer_id": SAMPLE_CUSTOMER_ID,
    "email": CLAIM_USER.email,  # and no email_verified: Entra ID does not say
}
AUDIENCES = {"auth0": "https://billing.example.com", "entra": ENTRA["aud"]}
CLAIMS = {
    "auth0": "https://example.com/paddle_customer_id",
    "entra": next(k for k in ENTRA if k.startswith("extension_")),
}


def token(shape: dict[str, Any], **changes: Any) -> str:
    now = int(time.time())
    claims = {"sub": "user-1", "iat": now, "exp": now + 300, **shape, **changes}
    return str(jwt.encode({"alg": "RS256", "kid": "provider-key"}, claims, KEY))


@pytest.fixture
def run(restore_environ: None) -> Iterator[GatewayServer]:
    server = serve(port=0)
    yield server
    server.close()


def trust(run: GatewayServer, provider: str, lookup: str) -> None:
    """The stack deployed with this provider: JwtIssuer, JwtAudience, CustomerLookup and CustomerIdClaim."""
    issuer = (AUTH0 if provider == "auth0" else ENTRA)["iss"]
    jwks = {"keys": [KEY.as_dict(private=False)]}
    run.authorizers = replace(run.authorizers, jwt=JwtAuthorizer(issuer, (AUDIENCES[provider],), jwks))
    os.environ.update(CUSTOMER_LOOKUP=lookup, CUSTOMER_ID_CLAIM=CLAIMS[provider])


def portal(run: GatewayServer, bearer: str) -> urllib3.BaseHTTPResponse:
    headers = {"Authorization": f"Bearer {bearer}", "Accept": "application/json"}
    return urllib3.PoolManager().request("GET", f"{run.url}/portal", headers=headers)


@pytest.mark.parametrize(
    ("provider", "lookup", "customer"),
    [
        pytest.param("auth0", "claim", SAMPLE_CUSTOMER_ID, id="auth0-namespaced-claim"),
        pytest.param("auth0", "verified_email", EMAIL_CUSTOMER_ID, id="auth0-verified-email"),
        pytest.param("entra", "claim", SAMPLE_CUSTOMER_ID, id="entra-extension-claim"),
    ],
)
def test_a_providers_token_opens_its_customers_portal(
    run: GatewayServer, provider: str, lookup: str, customer: str
) -> None:
    trust(run, provider, lookup)

    answer = portal(run, token(AUTH0 if provider == "auth0" else ENTRA))

    assert answer.status == 200, answer.data
    assert json.loads(answer.data)["data"]["customer_id"] == customer


def test_a_token_without_email_verified_is_refused_in_verified_email_mode(run: GatewayServer) -> None:
    trust(run, "entra", "verified_email")
    assert run.paddle_fake is not None
    before = len(run.paddle_fake.requests)

    answer = portal(run, token(ENTRA))

    assert answer.status == 403
    assert (
        json.loads(answer.data)["error"]["detail"] == "The token's email is not verified (email_verified must be true)."
    )
    assert len(run.paddle_fake.requests) == before  # refused before Paddle is asked


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"aud": ["https://other-api.example.com"]}, id="aud-list-without-ours"),
        pytest.param({"iss": "https://example-tenant.us.auth0.com"}, id="issuer-without-its-slash"),
    ],
)
def test_the_authorizer_holds_a_providers_token_to_its_issuer_and_audience(
    run: GatewayServer, changes: dict[str, Any]
) -> None:
    trust(run, "auth0", "claim")
    assert portal(run, token(AUTH0, **changes)).status == 401
