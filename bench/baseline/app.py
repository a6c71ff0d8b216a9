"""The baseline: the same job written the common way, as Powertools' documentation and `sam init` lead one to.

Powertools Logger, Tracer (auto-patching everything it can), Metrics, the parser's event_parser with the HTTP API
model, `parameters.get_secret`, and a new urllib3 PoolManager per call (so a new TCP and TLS connection to Paddle,
with a new SSLContext, for every invocation). Packaged like a default `sam build`: a BuildMethod python3.13 layer
with the same requirements, the function copied as-is.

It is not part of the product and is only imported by the benchmark, inside a fresh process.
"""

import base64
import json
import os

import urllib3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

logger = Logger()
tracer = Tracer()
metrics = Metrics()

PADDLE_API_BASE_URL = os.environ.get("PADDLE_API_BASE_URL", "https://api.paddle.com")
SECRET_ID = os.environ["PADDLE_API_KEY_SECRET_ID"]


class PortalSessionRequest(BaseModel):
    subscription_ids: list[str] = Field(default_factory=list, max_length=25)


@tracer.capture_method(capture_response=False)
def create_portal_session(customer_id: str, subscription_ids: list[str]) -> dict:
    secret = parameters.get_secret(SECRET_ID, max_age=300)
    api_key = json.loads(secret)["api_key"] if secret.startswith("{") else secret
    http = urllib3.PoolManager()
    response = http.request(
        "POST",
        f"{PADDLE_API_BASE_URL}/customers/{customer_id}/portal-sessions",
        json={"subscription_ids": subscription_ids},
        headers={"Authorization": f"Bearer {api_key}", "Paddle-Version": "1"},
        timeout=urllib3.Timeout(connect=3, read=10),
        retries=urllib3.Retry(
            total=3, backoff_factor=0.2, status_forcelist=(429, 500, 502, 503, 504), allowed_methods=None
        ),
    )
    if response.status >= 400:
        logger.error("Paddle error", status=response.status)
        raise RuntimeError(f"Paddle answered {response.status}")
    return response.json()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=APIGatewayProxyEventV2Model)
def lambda_handler(event: APIGatewayProxyEventV2Model, context: LambdaContext) -> dict:
    customer_id = (event.pathParameters or {})["customer_id"]
    body = base64.b64decode(event.body) if event.body and event.isBase64Encoded else (event.body or "{}")
    request = PortalSessionRequest.model_validate_json(body)
    session = create_portal_session(customer_id, request.subscription_ids)
    metrics.add_metric(name="SessionsCreated", unit=MetricUnit.Count, value=1)
    logger.info("Portal session created", customer_id=customer_id, session_id=session["data"]["id"])
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(session),
    }
