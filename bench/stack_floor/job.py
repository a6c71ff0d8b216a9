"""The stack floor doing the job: the stack floor (stack.py), plus the I/O any function doing this job must do in
its first invocation, with the stack's own tools and nothing of this project's.

Reads the API-key secret once (boto3 path: Powertools Parameters' `SecretsProvider`, what `get_secret` uses, given
the floor's Secrets Manager client instead of building a second one; extension path, `STACK_FLOOR_BOTO3=0`: the
Parameters and Secrets extension's `GET /secretsmanager/get` over the floor's urllib3 pool), then each invocation
POSTs the event's body to Paddle's `/customers/{id}/portal-sessions` over the floor's pool (the same verifying SSL
context as the project's) and reads the answer with `json.loads`. No models, no authorization, no decorators.
"""

import base64
import json
import os
from typing import Any

import stack

SECRET_MAX_AGE_SECONDS = 300
_api_key: str | None = None


def _secret_string() -> str:
    secret_id = os.environ["PADDLE_API_KEY_SECRET_ID"]
    if stack.BOTO3:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        value = SecretsProvider(boto3_client=stack.secrets_client).get(secret_id, max_age=SECRET_MAX_AGE_SECONDS)
        return value.decode() if isinstance(value, bytes) else str(value)
    port = os.environ["PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"]
    response = stack.pool.request(
        "GET",
        f"http://localhost:{port}/secretsmanager/get",
        fields={"secretId": secret_id},
        headers={"X-Aws-Parameters-Secrets-Token": os.environ.get("AWS_SESSION_TOKEN", "")},
    )
    return str(json.loads(response.data)["SecretString"])


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, object]:
    global _api_key
    if _api_key is None:
        _api_key = json.loads(_secret_string())["api_key"]
    customer_id = event["pathParameters"]["customer_id"]
    response = stack.pool.request(
        "POST",
        os.environ["PADDLE_API_BASE_URL"] + f"/customers/{customer_id}/portal-sessions",
        body=base64.b64decode(event["body"]) if event.get("isBase64Encoded") else event["body"].encode(),
        headers={
            "Authorization": f"Bearer {_api_key}",
            "Paddle-Version": "1",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    answer = json.loads(response.data)
    return {"statusCode": response.status, "body": json.dumps(answer["data"]["urls"])}
