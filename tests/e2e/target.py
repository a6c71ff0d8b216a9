"""What the e2e tests run against: a deployed stack (AWS_SAM_STACK_NAME set), or else `make run`'s local stack started
in-process. Each is an API base URL with the credentials that sign for it, a Lambda client that invokes the function,
and what the stack is configured with; the tests are the same code for both."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

STACK_VARIABLE = "AWS_SAM_STACK_NAME"
NOBODY = "ctm_" + "0" * 26  # well-formed (^ctm_[a-z\d]{26}$); no Paddle account has it


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)  # success bodies hold portal links: never in a failure report

    def json(self) -> Any:
        return json.loads(self.body)

    def for_message(self) -> str:
        """The answer for an assertion message, unless it may hold a link (success bodies and redirects do)."""
        return f"{self.status}" if self.status < 400 else f"{self.status}: {self.body.decode(errors='replace')[:500]}"


@dataclass(frozen=True)
class Target:
    name: str  # what a failure says it ran against
    base_url: str  # the ApiUrl output (or the local gateway), ending in "/"
    region: str
    session: boto3.Session  # whose credentials sign the IAM routes' requests
    lambda_client: Any
    function: str  # what a direct invoker calls: the alias `live` of a stack, PortalFunction locally
    customer_id: str  # a customer the target's Paddle knows, or NOBODY
    portal_origins: frozenset[str]  # where a portal link may point ("https://customer-portal.paddle.com")
    cors_origin: str | None  # an origin the JWT routes' CORS allows, when the stack has both
    local: bool
    http: urllib3.PoolManager = field(
        # No retries and no redirects followed: every answer is the one under test. Reads outlast API Gateway's 30 s.
        default_factory=lambda: urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=35))
    )

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Answer:
        url = path if path.startswith(("http://", "https://")) else self.url(path)
        answer = self.http.request(method, url, body=body or None, headers=headers or {}, redirect=False)
        return Answer(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.data)

    def signed_headers(
        self, method: str, path: str, body: bytes, headers: dict[str, str] | None = None
    ) -> dict[str, str]:
        """SigV4 headers (service execute-api) for exactly this method, URL and body."""
        credentials = self.session.get_credentials()
        assert credentials is not None
        request = AWSRequest(method=method, url=self.url(path), data=body, headers=dict(headers or {}))
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", self.region).add_auth(request)
        return dict(request.headers.items())

    def signed(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Answer:
        return self.request(method, path, body, self.signed_headers(method, path, body, headers))

    def invoke(self, payload: Any) -> tuple[str | None, Any]:
        """(FunctionError or None, the decoded answer) of a direct invocation."""
        response = self.lambda_client.invoke(FunctionName=self.function, Payload=json.dumps(payload).encode())
        assert response["StatusCode"] == 200  # the invocation ran (whether the function raised or not)
        return response.get("FunctionError"), json.loads(response["Payload"].read())


def origin_of(url: str) -> str:
    """Scheme and host of a link: all a test may show of it (the rest is a credential)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
