"""CodeDeploy's pre-traffic hook (functions/deploy_hook): it always reports, and reports Failed unless the new version
answered the smoke request as it should. Lambda and CodeDeploy are botocore Stubbers; tests/e2e runs the same smoke
check against the real handler (make run's Invoke API) and a deployed stack."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from deploy_hook.app import report
from deploy_hook.smoke import SMOKE_HOST, smoke_event

VERSION = "arn:aws:lambda:us-east-1:123456789012:function:stack-PortalFunction-x:7"
EVENT = {"DeploymentId": "d-ABCDEFGHI", "LifecycleEventHookExecutionId": "hook-execution-1"}
LINK = {
    "url": f"https://{SMOKE_HOST.format(region='us-east-1')}/links/portal?v=1",
    "expires_at": "2026-12-07T12:00:00Z",
}
MINTED = {"statusCode": 201, "body": json.dumps({"data": LINK})}


def payload(document: Any) -> StreamingBody:
    data = json.dumps(document).encode()
    return StreamingBody(io.BytesIO(data), len(data))


Clients = tuple[Any, Stubber, Any, Stubber]


@pytest.fixture
def clients() -> Iterator[Clients]:
    lambda_client = boto3.client("lambda", region_name="us-east-1")
    codedeploy = boto3.client("codedeploy", region_name="us-east-1")
    with Stubber(lambda_client) as lambdas, Stubber(codedeploy) as deploys:
        yield lambda_client, lambdas, codedeploy, deploys
        lambdas.assert_no_pending_responses()
        deploys.assert_no_pending_responses()


def expect_status(deploys: Stubber, status: str) -> None:
    deploys.add_response(
        "put_lifecycle_event_hook_execution_status",
        {"lifecycleEventHookExecutionId": "hook-execution-1"},
        {"deploymentId": "d-ABCDEFGHI", "lifecycleEventHookExecutionId": "hook-execution-1", "status": status},
    )


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        pytest.param({"StatusCode": 200, "Payload": payload(MINTED)}, "Succeeded", id="link-minted"),
        pytest.param(
            {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": payload({"errorType": "InternalError"})},
            "Failed",
            id="raised",
        ),
        pytest.param(
            {
                "StatusCode": 200,
                "Payload": payload({"statusCode": 500, "body": '{"error":{"code":"configuration_error"}}'}),
            },
            "Failed",
            id="answered-500",
        ),
        pytest.param(
            {
                "StatusCode": 200,
                "Payload": payload({**MINTED, "body": '{"data":{"url":"https://elsewhere.example/x"}}'}),
            },
            "Failed",
            id="link-on-another-host",
        ),
    ],
)
def test_the_outcome_is_reported(
    clients: tuple[Any, Stubber, Any, Stubber], answer: dict[str, Any], status: str
) -> None:
    lambda_client, lambdas, codedeploy, deploys = clients
    lambdas.add_response(
        "invoke", answer, {"FunctionName": VERSION, "Payload": json.dumps(smoke_event("us-east-1")).encode()}
    )
    expect_status(deploys, status)

    assert report(EVENT, lambda_client, codedeploy, VERSION) == status


def test_a_check_that_cannot_run_still_reports_failed(clients: Clients, capsys: pytest.CaptureFixture[str]) -> None:
    lambda_client, lambdas, codedeploy, deploys = clients
    lambdas.add_client_error("invoke", "AccessDeniedException", http_status_code=403)
    expect_status(deploys, "Failed")

    assert report(EVENT, lambda_client, codedeploy, VERSION) == "Failed"
    assert "AccessDeniedException" in json.loads(capsys.readouterr().out)["problem"]
