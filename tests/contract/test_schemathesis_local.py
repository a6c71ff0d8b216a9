"""Schemathesis, driven by our own OpenAPI document, against the local server of `make run`.

Property-based: for every operation, Schemathesis generates requests from the document (valid ones, and invalid ones
that break it on purpose), sends them to the real handler behind the local API Gateway stand-in (moto secret, Paddle
fake), and checks each answer: never a 5xx, and status, headers, content type and body all as the document declares.
Requests carry real credentials, as the local server's printed samples do, because its gateway checks them as API
Gateway does: on the IAM routes each request is SigV4-signed (botocore) with the local server's sample keys, on the
JWT routes it carries an ID token of the demo claim user, signed in against the server's own user pool.

Bounded to stay fast and reproducible: a fixed seed, derandomized generation, a few examples per operation.
"""

from __future__ import annotations

import copy
import json
import zlib
from typing import Any

import pytest
import requests
import schemathesis
import urllib3
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi import checks

from local.cognito import sign_in
from local.server import CLAIM_USER, REGION, SAMPLE_ACCESS_KEY, SAMPLE_SECRET_KEY
from tests.contract.conftest import LocalServer
from tests.contract.documents import our_document
from tests.support import CUSTOMER_ID, sigv4_headers

pytestmark = pytest.mark.slow  # a server process and a few hundred requests

MAX_EXAMPLES = 25  # per operation and generation mode
SEED = 20241002

CHECKS = [
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,  # re-sends a successful request without, and with wrong, credentials: must be refused
]


def _config() -> SchemathesisConfig:
    config = SchemathesisConfig()  # explicit: no schemathesis.toml is looked up
    config.update(seed=SEED, max_failures=None)
    return config


def _as_the_local_run_answers() -> dict[str, Any]:
    """Our document, with the one thing the local run answers differently: its portal links point at the local
    stand-in of Paddle's portal (http on loopback), where the deployed function's are `https://` on Paddle's hosts
    (that rule has its own tests: tests/security/test_redirect_safety.py, tests/unit/test_settings.py)."""
    document = our_document()
    location = document["components"]["headers"]["Location"]["schema"]
    assert location["pattern"] == "^https://"
    location["pattern"] = r"^(https://|http://127\.0\.0\.1:[0-9]+/)"
    return document


schema = schemathesis.openapi.from_dict(_as_the_local_run_answers(), config=_config())
schema.config.generation.update(
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    with_security_parameters=False,  # credentials are ours to give, below, not random strings
    database="none",  # nothing kept between runs: the same requests every time
)


@pytest.fixture(scope="module")
def id_token(local_server: LocalServer) -> str:
    """The demo claim user's ID token (valid an hour), from the server's own user pool."""
    result = sign_in(local_server.cognito_endpoint, local_server.client_id, CLAIM_USER.email, CLAIM_USER.password)
    return str(result["IdToken"])


def signed(method: str, url: str, body: bytes = b"") -> dict[str, str]:
    """`Authorization` and `X-Amz-Date` for this exact request, signed with the local server's sample keys."""
    return sigv4_headers(method, url, body, SAMPLE_ACCESS_KEY, SAMPLE_SECRET_KEY, REGION)


def with_credentials(case: Any, base_url: str, headers: dict[str, str], id_token: str) -> dict[str, str]:
    """`headers` plus what the local server's printed samples send for this route: a SigV4 signature of the request
    exactly as it will be sent (same URL, query and body bytes), or the ID token."""
    [requirement] = case.operation.definition.raw["security"]
    if "sigv4" not in requirement:
        return {**headers, "Authorization": f"Bearer {id_token}"}
    kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
    fields = ("method", "url", "headers", "files", "data", "params", "auth", "cookies", "json")
    prepared = requests.Request(**{name: kwargs[name] for name in fields if name in kwargs}).prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body or b""
    return {**headers, **signed(str(prepared.method), str(prepared.url), body)}


@schema.parametrize()
def test_local_server_conforms_to_our_document(case: Any, local_server: LocalServer, id_token: str) -> None:
    if case.method.upper() != case.operation.method.upper():
        return  # methods the document does not declare: see test_undeclared_methods_answer_like_api_gateway
    headers = {}
    if case.method == "GET" and zlib.crc32(repr((case.path_parameters, case.query)).encode()) % 2:
        headers["Accept"] = "application/json"  # half the GETs ask for the 200 JSON instead of the 302
    headers = with_credentials(case, local_server.url, headers, id_token)

    response = case.call(base_url=local_server.url, headers=headers, allow_redirects=False, timeout=30)

    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code} {response.text}"
    case.validate_response(response, checks=CHECKS, headers=headers)


@pytest.mark.parametrize(
    "method",
    [
        "PUT",
        "DELETE",
        "PATCH",
        "TRACE",
    ],
)
@pytest.mark.parametrize("path", [f"/customers/{CUSTOMER_ID}/portal-sessions", "/portal"])
def test_undeclared_methods_answer_like_api_gateway(local_server: LocalServer, method: str, path: str) -> None:
    """Schemathesis also tries methods the document does not declare; the answer is API Gateway's 404."""
    url = local_server.url + path
    response = urllib3.request(method, url, headers=signed(method, url), retries=False)

    assert response.status == 404, response.data[:200]
    assert json.loads(response.data) == {"message": "Not Found"}


@pytest.mark.parametrize(
    ("drift", "check"),
    [
        pytest.param(
            lambda d: d["components"]["schemas"]["PortalSessionResponse"]["required"].append("links"),
            "Response violates schema",
            id="body",
        ),
        pytest.param(
            lambda d: d["components"]["headers"]["CacheControl"]["schema"].update(const="private"),
            "Response header does not conform to the schema",
            id="header",
        ),
        pytest.param(
            lambda d: d["paths"]["/portal-sessions"]["post"]["responses"].pop("201"),
            "Undocumented status code",
            id="status",
        ),
    ],
)
def test_the_checks_catch_a_server_that_drifted_from_the_document(
    local_server: LocalServer, id_token: str, drift: Any, check: str
) -> None:
    """Proof that the checks above have teeth: against a document that no longer says what the server does, the
    same request, answered the same way, fails validation."""
    document = copy.deepcopy(our_document())
    drift(document)
    drifted = schemathesis.openapi.from_dict(document, config=_config())
    case = drifted["/portal-sessions"]["POST"].Case(body={})
    headers = with_credentials(case, local_server.url, {}, id_token)

    response = case.call(base_url=local_server.url, headers=headers, timeout=30)

    assert response.status_code == 201
    with pytest.raises(FailureGroup) as failed:
        case.validate_response(response, checks=CHECKS, headers=headers)
    assert check in str(failed.value)
