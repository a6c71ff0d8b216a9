"""Schemathesis, driven by our own OpenAPI document, against the local server of `make run` in its own process
(docs/testing.md#contract-tests): valid and invalid generated requests, with the credentials the printed samples use,
never get a 5xx, and every answer is as the document declares."""

from __future__ import annotations

import copy
import zlib
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi import checks

from local.cognito import sign_in
from local.server import CLAIM_USER, REGION, SAMPLE_ACCESS_KEY, SAMPLE_SECRET_KEY
from tests.contract.conftest import LocalServer
from tests.contract.documents import our_document
from tests.support import sigv4_headers

pytestmark = pytest.mark.slow  # a server process and a few hundred requests
# ignored_auth re-sends a successful request without, and with wrong, credentials: it must be refused.
CHECKS = [checks.status_code_conformance, checks.content_type_conformance, checks.response_headers_conformance,
          checks.response_schema_conformance, checks.negative_data_rejection, checks.ignored_auth]  # fmt: skip


def load(document: dict[str, Any]) -> Any:
    config = SchemathesisConfig()  # explicit: no schemathesis.toml is looked up
    config.update(seed=20241002, max_failures=None)
    return schemathesis.openapi.from_dict(document, config=config)


def _as_the_local_run_answers() -> dict[str, Any]:
    """Our document, with the one thing the local run answers differently: its portal links point at the local
    stand-in of Paddle's portal, where the deployed function's are `https://` (a rule tested elsewhere)."""
    document = copy.deepcopy(our_document())
    location = document["components"]["headers"]["Location"]["schema"]
    assert location["pattern"] == "^https://"
    location["pattern"] = r"^(https://|http://127\.0\.0\.1:[0-9]+/)"
    return document


schema = load(_as_the_local_run_answers())
schema.config.generation.update(
    max_examples=25, deterministic=True, database="none",
    with_security_parameters=False,  # credentials are ours to give, below, not random strings
)  # fmt: skip


@pytest.fixture(scope="module")
def id_token(local_server: LocalServer) -> str:
    """The demo claim user's ID token (valid an hour), from the server's own user pool."""
    return str(
        sign_in(local_server.cognito_endpoint, local_server.client_id, CLAIM_USER.email, CLAIM_USER.password)["IdToken"]
    )


def with_credentials(case: Any, base_url: str, headers: dict[str, str], id_token: str) -> dict[str, str]:
    """`headers` plus what the printed samples send for this route: a SigV4 signature of the request exactly as it
    will be sent (same URL, query and body bytes), or the ID token."""
    if "sigv4" not in case.operation.definition.raw["security"][0]:
        return {**headers, "Authorization": f"Bearer {id_token}"}
    kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
    fields = ("method", "url", "headers", "files", "data", "params", "auth", "cookies", "json")
    prepared = requests.Request(**{name: kwargs[name] for name in fields if name in kwargs}).prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body or b""
    signed = sigv4_headers(str(prepared.method), str(prepared.url), body, SAMPLE_ACCESS_KEY, SAMPLE_SECRET_KEY, REGION)
    return {**headers, **signed}


@schema.parametrize()
def test_the_local_server_answers_as_our_document_declares(case: Any, local_server: LocalServer, id_token: str) -> None:
    if case.method.upper() != case.operation.method.upper():
        return  # a method the document does not declare: API Gateway's 404 (tests/local/test_gateway.py)
    headers = {}
    if case.method == "GET" and zlib.crc32(repr((case.path_parameters, case.query)).encode()) % 2:
        headers["Accept"] = "application/json"  # half the GETs ask for the 200 JSON instead of the 302
    headers = with_credentials(case, local_server.url, headers, id_token)

    response = case.call(base_url=local_server.url, headers=headers, allow_redirects=False, timeout=30)

    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code} {response.text}"
    case.validate_response(response, checks=CHECKS, headers=headers)


@pytest.mark.parametrize(
    ("drift", "check"),
    [
        pytest.param(lambda d: d["components"]["schemas"]["PortalSessionResponse"]["required"].append("links"),
                     "Response violates schema", id="body"),
        pytest.param(lambda d: d["components"]["headers"]["CacheControl"]["schema"].update(const="private"),
                     "Response header does not conform to the schema", id="header"),
        pytest.param(lambda d: d["paths"]["/portal-sessions"]["post"]["responses"].pop("201"),
                     "Undocumented status code", id="status"),
    ],
)  # fmt: skip
def test_the_checks_catch_a_server_that_drifted_from_the_document(
    local_server: LocalServer, id_token: str, drift: Any, check: str
) -> None:
    """Against a document that no longer says what the server does, the same answer fails validation."""
    document = copy.deepcopy(our_document())
    drift(document)
    case = load(document)["/portal-sessions"]["POST"].Case(body={})
    headers = with_credentials(case, local_server.url, {}, id_token)

    response = case.call(base_url=local_server.url, headers=headers, timeout=30)

    assert response.status_code == 201
    with pytest.raises(FailureGroup) as failed:
        case.validate_response(response, checks=CHECKS, headers=headers)
    assert check in str(failed.value)
