"""What the e2e tests hold on to: the deployed API (base URL, region, signer, HTTP pool) and its answers."""

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
# What tests/conftest.py puts in the environment for moto; real calls with it fail with an unhelpful 403.
FAKE_ACCESS_KEY = "testing"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)  # success bodies hold portal links: never in a failure report

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class DeployedApi:
    base_url: str  # the ApiUrl output, ending in "/"
    region: str
    session: boto3.Session
    http: urllib3.PoolManager

    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Answer:
        answer = self.http.request(method, self.url(path), body=body or None, headers=headers or {})
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


def session_summary(body: Any) -> tuple[str, str, str | None, str | None]:
    """The parts of a success body a test may show when it fails: session id, Paddle request id, and the overview
    link's scheme and host. The link itself (a credential) stays out of every assertion message."""
    overview = urlsplit(body["data"]["urls"]["general"]["overview"])
    return body["data"]["id"], body["meta"]["request_id"], overview.scheme, overview.hostname
