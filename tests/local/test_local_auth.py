"""The local run authenticates as API Gateway does, on real sockets: moto's user pool and its keys, the gateway's
checks, the real handler behind a spy. A token with a good signature but a bad claim is signed with the pool's own
key (moto's published test key), so each claim check is proved on its own; the rest of the checks: test_authorizers."""

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
from botocore.config import Config
from botocore.exceptions import ClientError
from joserfc import jwt
from joserfc.jwk import RSAKey
from moto.utilities.utils import load_resource

from local import server as local
from local.cognito import CUSTOMER_ATTRIBUTE, UNAUTHORIZED_ATTRIBUTE, UserPool, sign_in
from paddle_portal.app import lambda_handler
from tests.support import CUSTOMER_ID, OTHER_CUSTOMER_ID, sigv4_headers


class Run:
    """The local run (`serve`), each event that reached the function, and the user pool."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.api: local.GatewayServer = local.serve(
            port=0, handler=lambda event, context: self.calls.append(event) or lambda_handler(event, context)
        )
        assert self.api.user_pool is not None
        self.pool: UserPool = self.api.user_pool

    def id_token(self, email: str = local.CLAIM_USER.email, kind: str = "IdToken") -> str:
        return str(sign_in(self.pool.endpoint, self.pool.client_id, email, local.CLAIM_USER.password)[kind])

    def post(self, path: str, token: str) -> urllib3.BaseHTTPResponse:
        return urllib3.request("POST", f"{self.api.url}{path}", headers={"Authorization": f"Bearer {token}"})

    def user_client(self) -> Any:
        return boto3.client("cognito-idp", region_name=self.pool.region, endpoint_url=self.pool.endpoint,
                            config=Config(signature_version=UNSIGNED))  # fmt: skip


@pytest.fixture
def run(restore_environ: None) -> Iterator[Run]:
    local_run = Run()
    yield local_run
    local_run.api.close()


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        pytest.param({}, 201, id="unchanged-the-forging-key-is-the-pools"),
        pytest.param({"exp": int(time.time()) - 1}, 401, id="expired"),
        pytest.param({"nbf": int(time.time()) + 600}, 401, id="not-yet-valid"),
        pytest.param({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}, 401, id="other-issuer"),
        pytest.param({"aud": "another-app-client"}, 401, id="other-audience"),
    ],
)
def test_a_well_signed_token_with_a_bad_claim_gets_401_and_the_function_is_not_called(
    run: Run, changes: dict[str, Any], status: int
) -> None:
    data = run.id_token().split(".")[1]
    payload = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))) | changes
    private = RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))  # moto's signing key

    response = run.post("/portal-sessions", jwt.encode({"alg": "RS256", "kid": "dummy"}, payload, private))

    assert response.status == status
    if status == 401:
        assert (response.json(), run.calls) == ({"message": "Unauthorized"}, [])
        return
    # The claim user's portal opens, the function getting the pool's claims, every one a string as HTTP API passes them
    [event] = run.calls
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert (response.json()["data"]["customer_id"], claims[CUSTOMER_ATTRIBUTE]) == (CUSTOMER_ID, CUSTOMER_ID)
    assert (claims["email_verified"], claims["iss"]) == ("true", run.pool.issuer)
    assert all(isinstance(value, str) for value in claims.values())


def test_sigv4_is_checked_on_the_request_as_received(run: Run) -> None:
    url, body = f"{run.api.url}/customers/{CUSTOMER_ID}/portal-sessions", b'{"subscription_ids":[]}'
    headers = sigv4_headers("POST", url, body, local.SAMPLE_ACCESS_KEY, local.SAMPLE_SECRET_KEY)

    def post(target: str = url, data: bytes = body, signed: dict[str, str] = headers) -> Any:
        return urllib3.request("POST", target, body=data, headers=signed)

    answers = {"body-altered": post(data=body + b" "), "query-added": post(f"{url}?a=1"), "unsigned": post(signed={}),
               "old-date": post(signed={**headers, "X-Amz-Date": "20200101T000000Z"})}  # fmt: skip

    assert {name: answer.status for name, answer in answers.items()} == dict.fromkeys(answers, 403)
    assert answers["body-altered"].json()["message"].startswith("The request signature we calculated does not match")
    assert answers["old-date"].json()["message"].startswith("Signature expired: 20200101T000000Z is now earlier than")
    assert answers["unsigned"].json() == {"message": "Forbidden"}
    assert run.calls == []
    assert post().status == 201  # the control


def test_a_user_cannot_write_their_own_customer_id_only_a_backend_can(run: Run) -> None:
    access = run.id_token(local.EMAIL_USER.email, "AccessToken")
    attribute = {"Name": CUSTOMER_ATTRIBUTE, "Value": OTHER_CUSTOMER_ID}

    with pytest.raises(ClientError) as on_update:
        run.user_client().update_user_attributes(AccessToken=access, UserAttributes=[attribute])
    with pytest.raises(ClientError) as on_sign_up:
        run.user_client().sign_up(ClientId=run.pool.client_id, Username="new@example.com", Password="Passw0rd!x",
                                  UserAttributes=[attribute])  # fmt: skip
    run.user_client().update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "name", "Value": "Emil"}])

    error = on_update.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("NotAuthorizedException", UNAUTHORIZED_ATTRIBUTE)
    assert on_sign_up.value.response["Error"]["Code"] == "NotAuthorizedException"
    attributes = {a["Name"]: a["Value"] for a in run.user_client().get_user(AccessToken=access)["UserAttributes"]}
    assert (CUSTOMER_ATTRIBUTE in attributes, attributes["name"]) == (False, "Emil")  # a writable one goes through

    # A backend that learned the user's Paddle customer sets it; the user's next token carries it and opens the portal
    boto3.client("cognito-idp", region_name=run.pool.region).admin_update_user_attributes(
        UserPoolId=run.pool.pool_id, Username=local.EMAIL_USER.email,
        UserAttributes=[{"Name": CUSTOMER_ATTRIBUTE, "Value": local.EMAIL_CUSTOMER_ID}],
    )  # fmt: skip
    response = run.post("/portal-sessions", run.id_token(local.EMAIL_USER.email))
    assert (response.status, response.json()["data"]["customer_id"]) == (201, local.EMAIL_CUSTOMER_ID)
