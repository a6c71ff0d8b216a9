"""The stack end to end, through its front doors: API Gateway (SigV4, its own refusals, CORS), a signed link followed
with no credentials, direct invocation with its typed errors, the deploy's smoke check, and the SDK the deployed
function runs. The same tests run against a deployed stack (CI's staging) and `make run`'s local stack (every
`make test`); only what needs real AWS skips locally, saying why.

Nothing printed may hold a portal link: failures show status and error bodies, and of a link only its origin.
"""

from __future__ import annotations

import json
import re
import time
import tomllib
from pathlib import Path

import pytest
from deploy_hook import smoke

from tests.e2e.target import NOBODY, Target, origin_of

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
LOCKED = {p["name"]: p["version"] for p in tomllib.loads((REPO / "uv.lock").read_text())["package"]}


def needs_aws(target: Target, what: str) -> None:
    if target.local:
        pytest.skip(f"needs {what}, which only a deployed stack has")


def test_a_signed_request_reaches_paddle_through_the_gateway(target: Target) -> None:
    answer = target.signed("POST", f"customers/{target.customer_id}/portal-sessions")

    assert answer.headers.get("cache-control") == "no-store"
    if target.customer_id == NOBODY:  # no known customer on this stack: Paddle's 404, in Paddle's envelope
        assert answer.status == 404, answer.for_message()
        assert answer.json()["error"]["code"] == "not_found"
    else:
        assert answer.status == 201, answer.for_message()
        body = answer.json()
        assert body["data"]["id"].startswith("cpls_")
        assert body["meta"]["request_id"]
        assert origin_of(body["data"]["urls"]["general"]["overview"]) in target.portal_origins


def test_an_unsigned_request_is_refused_by_the_gateway(target: Target) -> None:
    answer = target.request("POST", f"customers/{target.customer_id}/portal-sessions")

    assert answer.status == 403, answer.for_message()
    assert "error" not in answer.json(), "the function answered: the route is not protected by AWS_IAM"


def test_a_body_other_than_the_signed_one_is_refused_by_the_gateway(target: Target) -> None:
    path = f"customers/{target.customer_id}/portal-sessions"
    headers = target.signed_headers("POST", path, b"")

    answer = target.request("POST", path, b'{"subscription_ids": []}', headers)

    assert answer.status == 403, answer.for_message()
    assert "error" not in answer.json()


def test_a_signed_link_opens_the_portal_with_no_credentials(target: Target) -> None:
    # Given a link a backend minted (IAM)
    minted = target.signed(
        "POST",
        f"customers/{target.customer_id}/portal-links",
        b'{"expires_in": 300}',
        {"Content-Type": "application/json"},
    )
    assert minted.status == 201, minted.for_message()
    link = minted.json()["data"]["url"]
    assert link.startswith(target.base_url + "links/portal?")  # the API's own address, not a client-chosen host

    # When anyone follows it, without credentials
    followed = target.request("GET", link)

    # Then it redirects to a fresh session's portal (or Paddle's 404 when the stack knows no customer)
    if target.customer_id == NOBODY:
        assert followed.status == 404, followed.for_message()
    else:
        assert followed.status == 302, followed.for_message()
        assert origin_of(followed.headers["location"]) in target.portal_origins
        assert followed.headers.get("referrer-policy") == "no-referrer"
    tampered = target.request("GET", link.replace("&e=", "&e=9"), headers={"Accept": "application/json"})
    assert tampered.status == 403
    assert tampered.json()["error"]["code"] == "invalid_link"


def test_the_jwt_routes_answer_cors_preflights_for_allowed_origins_only(target: Target) -> None:
    if target.cors_origin is None:
        pytest.skip(f"{target.name} has no JWT routes or no CorsAllowedOrigins")
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}

    allowed = target.request("OPTIONS", "portal-links", headers={**preflight, "Origin": target.cors_origin})
    other = target.request("OPTIONS", "portal-links", headers={**preflight, "Origin": "https://attacker.example"})

    assert allowed.headers.get("access-control-allow-origin") == target.cors_origin
    assert "authorization" in allowed.headers.get("access-control-allow-headers", "").lower()
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    "payload",
    [{"customer_id": "ctm_short"}, {"customer_id": NOBODY, "surprise": 1}, {"requestContext": "not an API event"}],
    ids=["bad-customer-id", "unknown-field", "api-looking-payload"],
)
def test_direct_invocation_raises_invalid_request_error_for_a_bad_payload(target: Target, payload: object) -> None:
    raised, error = target.invoke(payload)

    assert raised == "Unhandled"
    assert error["errorType"] == "InvalidRequestError", error.get("errorMessage")


def test_direct_invocation_reaches_paddle(target: Target) -> None:
    raised, answer = target.invoke({"customer_id": target.customer_id, "correlation_id": "e2e-direct"})

    if target.customer_id == NOBODY:
        assert raised == "Unhandled"
        assert answer["errorType"] == "CustomerNotFoundError", answer.get("errorMessage")
    else:
        assert raised is None, answer.get("errorType")
        assert answer["data"]["id"].startswith("cpls_")
        assert origin_of(answer["data"]["urls"]["general"]["overview"]) in target.portal_origins


def test_the_deploys_smoke_check_passes(target: Target) -> None:
    assert smoke.check(target.lambda_client, target.function, target.region) is None


def test_the_deployed_layer_ships_the_sdk_the_lock_pins(target: Target) -> None:
    """boto3 and botocore are in the function's layer at the lock's versions (read through Lambda's API)."""
    needs_aws(target, "the deployed layer (Lambda's GetLayerVersion)")
    import io
    import zipfile

    import urllib3

    configuration = target.lambda_client.get_function_configuration(FunctionName=target.function)
    layers = [layer["Arn"] for layer in configuration.get("Layers", []) if "-dependencies:" in layer["Arn"]]
    assert len(layers) == 1, f"no single dependencies layer on the function: {layers}"
    content = target.lambda_client.get_layer_version_by_arn(Arn=layers[0])["Content"]
    archive = urllib3.PoolManager().request("GET", content["Location"], timeout=60).data  # presigned: never printed
    shipped = {
        match[1].replace("_", "-"): match[2]
        for name in zipfile.ZipFile(io.BytesIO(archive)).namelist()
        if (match := re.fullmatch(r"python/([A-Za-z0-9_.]+)-([^-/]+)\.dist-info/METADATA", name))
    }
    print(
        f"deployed layer {layers[0]}: " + ", ".join(f"{n} {shipped.get(n)}" for n in ("boto3", "botocore", "urllib3"))
    )
    assert {n: shipped.get(n) for n in ("boto3", "botocore", "urllib3")} == {
        n: LOCKED[n] for n in ("boto3", "botocore", "urllib3")
    }


def test_the_running_function_imports_the_sdk_from_its_layer(target: Target) -> None:
    """The line the function logs when it first loads boto3: the versions it runs and where botocore came from."""
    needs_aws(target, "the function's CloudWatch logs")
    configuration = target.lambda_client.get_function_configuration(FunctionName=target.function)
    if "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT" in configuration.get("Environment", {}).get("Variables", {}):
        pytest.skip("secrets are read through the extension: the function never loads boto3")
    logs = target.session.client("logs")
    group = configuration["LoggingConfig"]["LogGroup"]
    events: list[dict[str, str]] = []
    for _ in range(12):  # a cold start of the tests above wrote it; CloudWatch shows it within a minute
        events = logs.filter_log_events(logGroupName=group, filterPattern='"AWS SDK loaded"', limit=5)["events"]
        if events:
            break
        time.sleep(5)
    assert events, f"no 'AWS SDK loaded' line in {group}"
    line = json.loads(events[-1]["message"])
    print(f"deployed function: boto3 {line['boto3_version']}, botocore {line['botocore_version']}")
    print(f"botocore from {line['botocore_path']}; sys.path = {line['sys_path']}")
    assert {"boto3": line["boto3_version"], "botocore": line["botocore_version"]} == {
        n: LOCKED[n] for n in ("boto3", "botocore")
    }
    assert line["botocore_path"].startswith("/opt/python/")
