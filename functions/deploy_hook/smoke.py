"""The smoke check of a deployed version: invoke it directly with a harmless request and read the answer.

The request is the HTTP API event of a backend minting a signed link (`POST /customers/{id}/portal-links`, IAM
caller): it goes through the function's routing, authorization, validation and answer shaping, reads the signing-key
secret (IAM, decryption, parsing), and calls no Paddle API, so it neither depends on Paddle nor costs a session. The
link it mints names a customer no account has (and, without a custom domain, a host nothing serves); it is thrown
away.

`python -m deploy_hook.smoke --function <name or ARN> [--region r] [--endpoint-url http://127.0.0.1:3004]` runs it
from a shell (CI after a stack's first deploy, which runs no hook; `make run`'s Invoke API locally). Exit 0: passed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

NOBODY = "ctm_" + "0" * 26  # well-formed, and no Paddle account has it
SMOKE_HOST = "smoke-check.execute-api.{region}.amazonaws.com"


def smoke_event(region: str) -> dict[str, Any]:
    """A minimal HTTP API (payload 2.0) event for a backend's link-minting request."""
    path = f"/customers/{NOBODY}/portal-links"
    return {
        "version": "2.0",
        "routeKey": "POST /customers/{customer_id}/portal-links",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "pathParameters": {"customer_id": NOBODY},
        "requestContext": {
            "domainName": SMOKE_HOST.format(region=region),
            "requestId": "smoke-check",
            "stage": "$default",
            "http": {"method": "POST", "path": path},
            "authorizer": {"iam": {"userArn": "arn:aws:sts::000000000000:assumed-role/deploy/smoke-check"}},
        },
        "body": json.dumps({"expires_in": 60}),
        "isBase64Encoded": False,
    }


def check(lambda_client: Any, function: str, region: str) -> str | None:
    """None when the version answers the smoke request as it should, else one line saying what went wrong. Nothing
    of the answer is quoted but its status, code and error type (a minted link is a credential, even this one)."""
    response = lambda_client.invoke(FunctionName=function, Payload=json.dumps(smoke_event(region)).encode())
    try:
        answer = json.loads(response["Payload"].read())
    except ValueError:
        return f"{function} answered something that is not JSON"
    if response.get("FunctionError"):
        return f"{function} raised {answer.get('errorType', 'an error')} on the smoke request"
    if not isinstance(answer, dict) or answer.get("statusCode") != 201:
        status = answer.get("statusCode") if isinstance(answer, dict) else None
        try:
            code = json.loads(answer["body"])["error"]["code"]
        except (KeyError, TypeError, ValueError):
            code = "no error code"
        return f"{function} answered the smoke request with {status} ({code}), not 201"
    data = json.loads(answer["body"]).get("data", {})
    if "/links/portal?" not in data.get("url", "") or not data.get("expires_at"):
        return f"{function} answered 201 without a signed link"
    return None


def main(argv: list[str] | None = None) -> int:
    import boto3  # type: ignore[import-untyped,unused-ignore]  # typed only where boto3-stubs is installed (sam group)

    parser = argparse.ArgumentParser(prog="python -m deploy_hook.smoke", description=__doc__.split("\n")[0])
    parser.add_argument("--function", required=True, help="the function's name or ARN (the alias: FunctionAliasArn)")
    parser.add_argument("--region", default=None)
    parser.add_argument("--endpoint-url", default=None, help="another Invoke API, such as make run's")
    args = parser.parse_args(argv)
    client = boto3.client("lambda", region_name=args.region, endpoint_url=args.endpoint_url)
    problem = check(client, args.function, client.meta.region_name)
    print(f"smoke check: {problem or 'passed'}")
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main())
