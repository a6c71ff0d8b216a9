"""make run's Lambda Invoke API (local/lambda_api.py), as boto3's Lambda client meets it: the function by its logical
id or a deployed name or ARN (alias `live`), a raised error as Lambda reports it, and refusals in Lambda's own shape.
tests/e2e invokes the real handler through it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.lambda_api import LambdaApiServer


def handler(event: Any, context: Any) -> Any:
    if event.get("fail"):
        raise LookupError("no such thing")
    return {"echo": event, "function": context.function_name}


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    server = LambdaApiServer(("127.0.0.1", 0), handler).start()
    yield boto3.client(
        "lambda", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    server.stop()


@pytest.mark.parametrize(
    "name",
    [
        "PortalFunction",
        "arn:aws:lambda:us-east-1:123456789012:function:paddle-portal-PortalFunction-AbC123:live",
        "paddle-portal-PortalFunction-AbC123",
    ],
)
def test_the_function_answers_by_its_logical_id_or_its_deployed_name(client: Any, name: str) -> None:
    answer = client.invoke(FunctionName=name, Payload=b'{"a": 1}')
    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {"echo": {"a": 1}, "function": "PortalFunction"}


def test_a_raised_error_is_reported_as_lambda_reports_it(client: Any) -> None:
    answer = client.invoke(FunctionName="PortalFunction", Payload=b'{"fail": true}')
    error = json.loads(answer["Payload"].read())

    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    assert (error["errorType"], error["errorMessage"]) == ("LookupError", "no such thing")
    assert error["requestId"]
    assert any("handler" in frame for frame in error["stackTrace"])


@pytest.mark.parametrize(
    ("call", "code"),
    [
        pytest.param({"FunctionName": "OtherFunction"}, "ResourceNotFoundException", id="unknown-function"),
        pytest.param({"FunctionName": "PortalFunction", "Qualifier": "7"}, "ResourceNotFoundException", id="version"),
        pytest.param(
            {"FunctionName": "PortalFunction", "InvocationType": "Event"}, "InvalidParameterValueException", id="async"
        ),
        pytest.param(
            {"FunctionName": "PortalFunction", "Payload": b"not json"}, "InvalidRequestContentException", id="not-json"
        ),
    ],
)
def test_what_lambda_refuses_is_refused_in_its_shape(client: Any, call: dict[str, Any], code: str) -> None:
    with pytest.raises(ClientError) as refused:
        client.invoke(**{"FunctionName": "PortalFunction", **call})
    assert refused.value.response["Error"]["Code"] == code
