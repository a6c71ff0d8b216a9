"""The stack floor: what the contract's stack costs before the function does anything of its own.

Imports urllib3, Powertools Logger/Tracer/Metrics and the parser's HTTP API model, and builds what every execution
environment needs once: a verifying SSL context with a urllib3 pool and, on the boto3 path, a boto3 Secrets Manager
client. No parsing, no call. `STACK_FLOOR_BOTO3=0` is its twin for the extension path (no boto3). Run on this
project's compiled layer (bench/__main__.py), so the project's row can be read as a ratio over it. job.py is the
same floor doing the job's unavoidable I/O (the secret read and the Paddle request).
"""

import os
import ssl

import urllib3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

logger = Logger()
tracer = Tracer(auto_patch=False)
metrics = Metrics()
pool = urllib3.PoolManager(num_pools=2, maxsize=4, ssl_context=ssl.create_default_context(), retries=False)
MODEL = APIGatewayProxyEventV2Model

BOTO3 = os.environ.get("STACK_FLOOR_BOTO3", "1") == "1"
if BOTO3:
    import boto3

    secrets_client = boto3.client("secretsmanager")


def lambda_handler(event: object, context: object) -> dict[str, object]:
    return {"statusCode": 200, "body": ""}
