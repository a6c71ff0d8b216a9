"""Schemathesis, driven by our own OpenAPI document, against the local server of `make run`.

Property-based: for every operation, Schemathesis generates requests from the document (valid ones, and invalid ones
that break it on purpose), sends them to the real handler behind the local API Gateway stand-in (moto secret, Paddle
fake), and checks each answer: never a 5xx, and status, headers, content type and body all as the document declares.
Requests carry credentials the way the local server's printed samples do: a SigV4-shaped `Authorization` header on
the IAM routes, an unsigned JWT with the customer claim on the JWT routes (the local server verifies neither).

Bounded to stay fast and reproducible: a fixed seed, derandomized generation, a few examples per operation.
"""

from __future__ import annotations

import copy
import json
import time
import zlib
from typing import Any

import pytest
import schemathesis
import urllib3
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi import checks

from local.gateway import unsigned_jwt
from tests.contract.documents import OUR_DOCUMENT, our_document
from tests.support import CUSTOMER_ID

pytestmark = pytest.mark.slow  # a server process and a few hundred requests

MAX_EXAMPLES = 25  # per operation and generation mode
SEED = 20241002
CLAIM = "custom:paddle_customer_id"
# The shape curl's --aws-sigv4 sends, with AWS's documentation example access key.
SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20241002/us-east-1/execute-api/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)

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


schema = schemathesis.openapi.from_path(OUR_DOCUMENT, config=_config())
schema.config.generation.update(
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    with_security_parameters=False,  # credentials are ours to give, below, not random strings
    database="none",  # nothing kept between runs: the same requests every time
)


def authorization(case: Any) -> str:
    """What the local server's printed samples send for this route."""
    [requirement] = case.operation.definition.raw["security"]
    if "sigv4" in requirement:
        return SIGV4
    now = int(time.time())
    claims = {"sub": "schemathesis", "iat": now, "exp": now + 3600, CLAIM: CUSTOMER_ID}
    return f"Bearer {unsigned_jwt(claims)}"


@schema.parametrize()
def test_local_server_conforms_to_our_document(case: Any, local_server: str) -> None:
    if case.method.upper() != case.operation.method.upper():
        return  # methods the document does not declare: see test_undeclared_methods_answer_like_api_gateway
    headers = {"Authorization": authorization(case)}
    if case.method == "GET" and zlib.crc32(repr((case.path_parameters, case.query)).encode()) % 2:
        headers["Accept"] = "application/json"  # half the GETs ask for the 200 JSON instead of the 302

    response = case.call(base_url=local_server, headers=headers, allow_redirects=False, timeout=30)

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
def test_undeclared_methods_answer_like_api_gateway(local_server: str, method: str, path: str) -> None:
    """Schemathesis also tries methods the document does not declare; the answer is API Gateway's 404."""
    response = urllib3.request(method, local_server + path, headers={"Authorization": SIGV4}, retries=False)

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
def test_the_checks_catch_a_server_that_drifted_from_the_document(local_server: str, drift: Any, check: str) -> None:
    """Proof that the checks above have teeth: against a document that no longer says what the server does, the
    same request, answered the same way, fails validation."""
    document = copy.deepcopy(our_document())
    drift(document)
    drifted = schemathesis.openapi.from_dict(document, config=_config())
    case = drifted["/portal-sessions"]["POST"].Case(body={})
    headers = {"Authorization": authorization(case)}

    response = case.call(base_url=local_server, headers=headers, timeout=30)

    assert response.status_code == 201
    with pytest.raises(FailureGroup) as failed:
        case.validate_response(response, checks=CHECKS, headers=headers)
    assert check in str(failed.value)
