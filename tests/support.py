"""Test helpers shared by the tiers: fake-but-realistic ids and keys, a Paddle stand-in, a Lambda context."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest

CUSTOMER_ID = "ctm_01gysfvfy7vqhpzkq8rjmrq7an"
OTHER_CUSTOMER_ID = "ctm_01hv6y1jedq4p1n0yqn5ba3ky4"
SUBSCRIPTION_ID = "sub_01h04vsc0qhwtsbsxh3422wjs4"
OTHER_SUBSCRIPTION_ID = "sub_01h8bx8fmywym11t6swgzba704"
SECRET_ID = "paddle-portal/api-key"
# Obviously fake keys, shaped like Paddle's (69 characters, sandbox and live prefixes).
API_KEY = "pdl_sdbx_apikey_01gtgztp8f4kek3yd4g1wrksa3_FAKEFAKEFAKEFAKEFAKE_AAA"
ROTATED_API_KEY = "pdl_sdbx_apikey_01gtgztp8f4kek3yd4g1wrksa3_FAKEFAKEFAKEFAKEFAKE_BBB"
LIVE_API_KEY = "pdl_live_apikey_01gtgztp8f4kek3yd4g1wrksa3_FAKEFAKEFAKEFAKEFAKE_CCC"
LEGACY_API_KEY = "FAKE0legacy0key0without0prefix0000000000000000000"
PORTAL_TOKEN = "pga_eyJhbGciOiJIUzI1NiJ9.FAKE-portal-token.signature"
PORTAL_HOST = "https://customer-portal.paddle.com"


def in_ci() -> bool:
    """Under CI (the `CI` variable set, as GitHub Actions and .ci/run set it), a tier that cannot run fails."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_tier_in_one_line(
    config: Any, items: list[Any], here: list[Any], tier: str, problem: str | None, enable: str
) -> None:
    """A tier that cannot run here (`problem`), and not under CI: one skipped test with one line saying how to enable
    it; the tier's other tests (`here`) are deselected rather than each repeating it. Under CI nothing is skipped: the
    tier then fails where it cannot run."""
    if problem is None or in_ci() or not here:
        return
    first, rest = here[0], here[1:]
    first.add_marker(pytest.mark.skip(reason=f"{tier} ({len(here)} tests): {problem}; to run it, {enable}"))
    items[:] = [item for item in items if item not in rest]
    config.hook.pytest_deselected(items=rest)


def cannot_run_tier(tier: str, problem: str, enable: str) -> NoReturn:
    """A tier's session fixture where the tier cannot run: under CI a failure (CI must run every tier), elsewhere a skip
    saying how to enable it."""
    if in_ci():
        pytest.fail(f"{tier} cannot run under CI: {problem}; {enable}", pytrace=False)
    pytest.skip(f"{tier}: {problem}; to run it, {enable}")


def portal_session(
    customer_id: str = CUSTOMER_ID, subscription_ids: list[str] | tuple[str, ...] = (), host: str = PORTAL_HOST
) -> dict[str, Any]:
    """A 201 body exactly as Paddle documents it (schema `customer-portal-session`)."""
    base = f"{host}/cpl_01j7zbyqs3vah3aafp4jf62qaw"
    return {
        "data": {
            "id": "cpls_01h4ge9r64c22exjsx0fy8b48b",
            "customer_id": customer_id,
            "urls": {
                "general": {"overview": f"{base}?action=overview&token={PORTAL_TOKEN}"},
                "subscriptions": [
                    {
                        "id": sub,
                        "cancel_subscription": (
                            f"{base}?action=cancel_subscription&subscription_id={sub}&token={PORTAL_TOKEN}"
                        ),
                        "update_subscription_payment_method": (
                            f"{base}?action=update_subscription_payment_method&subscription_id={sub}&token={PORTAL_TOKEN}"
                        ),
                    }
                    for sub in subscription_ids
                ],
            },
            "created_at": "2024-10-25T06:53:58Z",
        },
        "meta": {"request_id": str(uuid.uuid4())},
    }


def link_of(session: dict[str, Any], kind: str, subscription_id: str | None) -> str:
    """The link of that kind in a session body: the overview, or a subscription's deep link."""
    urls = session["data"]["urls"]
    if kind == "overview":
        return str(urls["general"]["overview"])
    [sub] = [sub for sub in urls["subscriptions"] if sub["id"] == subscription_id]
    return str(sub[kind])


def paddle_error(
    code: str, detail: str = "", errors: list[dict[str, str]] | None = None, type_: str = "request_error"
) -> dict[str, Any]:
    """An error body exactly as Paddle documents it (schema `error`)."""
    error: dict[str, Any] = {
        "type": type_,
        "code": code,
        "detail": detail or f"{code} detail",
        "documentation_url": f"https://developer.paddle.com/v1/errors/shared/{code}",
    }
    if errors:
        error["errors"] = errors
    return {"error": error, "meta": {"request_id": str(uuid.uuid4())}}


class PaddleStub:
    """Scripted answers from a pytest-httpserver on 127.0.0.1 (real sockets, real urllib3)."""

    def __init__(self, server: Any) -> None:
        self.server = server

    def path(self, customer_id: str = CUSTOMER_ID) -> str:
        return f"/customers/{customer_id}/portal-sessions"

    def creates_session(
        self, customer_id: str = CUSTOMER_ID, subscription_ids: tuple[str, ...] = (), **kwargs: Any
    ) -> dict[str, Any]:
        body = portal_session(customer_id, subscription_ids, **kwargs)
        self.server.expect_request(self.path(customer_id), method="POST").respond_with_json(
            body, status=201, headers={"Request-Id": body["meta"]["request_id"]}
        )
        return body

    def answers(
        self,
        status: int,
        body: Any,
        customer_id: str = CUSTOMER_ID,
        headers: dict[str, str] | None = None,
        once: bool = False,
    ) -> None:
        expect = self.server.expect_oneshot_request if once else self.server.expect_request
        handler = expect(self.path(customer_id), method="POST")
        if isinstance(body, (dict, list)):
            handler.respond_with_json(body, status=status, headers=headers)
        else:
            handler.respond_with_data(body, status=status, headers=headers)

    @property
    def requests(self) -> list[Any]:
        return [request for request, _ in self.server.log]

    def sent_json(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].get_data() or b"null")


class SecretsManagerCalls:
    """Counts real Secrets Manager API calls made through botocore, and which secret each read (a spy: behaviour is
    unchanged). The signed-link route may read its signing keys before refusing a link, never the Paddle API key."""

    def __init__(self) -> None:
        import boto3

        self.client = boto3.client("secretsmanager", region_name="us-east-1")
        self.operations: list[str] = []
        self.secret_ids: list[str] = []  # of each GetSecretValue

    def reset(self) -> None:
        self.operations.clear()
        self.secret_ids.clear()

    @property
    def get_secret_value(self) -> int:
        return self.operations.count("GetSecretValue")

    @property
    def api_key_reads(self) -> int:
        return self.secret_ids.count(SECRET_ID)

    @classmethod
    @contextmanager
    def spy(cls) -> Iterator[SecretsManagerCalls]:
        from unittest import mock

        from botocore.client import BaseClient

        calls = cls()
        real = BaseClient._make_api_call

        def counting(client: BaseClient, operation: str, params: Any) -> Any:
            if client.meta.service_model.service_name == "secretsmanager":
                calls.operations.append(operation)
                if operation == "GetSecretValue":
                    calls.secret_ids.append(params.get("SecretId"))
            return real(client, operation, params)

        with mock.patch.object(BaseClient, "_make_api_call", counting):
            yield calls


@dataclass
class LambdaContext:
    function_name: str = "paddle-portal"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:paddle-portal"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    remaining_ms: int = 15_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def sigv4_headers(
    method: str, url: str, body: bytes, access_key: str, secret_key: str, region: str = "us-east-1"
) -> dict[str, str]:
    """`Authorization` and `X-Amz-Date` of a SigV4 signature (execute-api) of this request, as botocore signs it:
    host, date, path, query and body are signed; add no header the signature should cover."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=body)
    SigV4Auth(Credentials(access_key, secret_key), "execute-api", region).add_auth(request)
    return {name: str(request.headers[name]) for name in ("Authorization", "X-Amz-Date")}
