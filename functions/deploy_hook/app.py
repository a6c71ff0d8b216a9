"""CodeDeploy's pre-traffic hook: before any traffic shifts to the new version, run the smoke check against it and
report the outcome to CodeDeploy. A failure (or a check that cannot run) stops the deploy and rolls back.

The version under test is not in CodeDeploy's event: the template passes it as NEW_VERSION. Whatever happens, a
status is reported: a hook that never reports leaves the deployment waiting for an hour.
"""

from __future__ import annotations

import json
import os
from typing import Any

from deploy_hook.smoke import check


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    import boto3  # type: ignore[import-untyped,unused-ignore]  # the runtime's SDK; typed only with boto3-stubs

    status = report(event, boto3.client("lambda"), boto3.client("codedeploy"), os.environ["NEW_VERSION"])
    return {"status": status}


def report(event: dict[str, Any], lambda_client: Any, codedeploy: Any, version: str) -> str:
    """Smoke-check `version`, tell CodeDeploy "Succeeded" or "Failed", and return what was told."""
    try:
        problem = check(lambda_client, version, lambda_client.meta.region_name)
    except Exception as error:  # AccessDenied, throttling, a timeout: the new version is not proven good
        code = getattr(error, "response", {}).get("Error", {}).get("Code")  # botocore's ClientError names the cause
        problem = f"the smoke check could not run: {code or type(error).__name__}"
    status = "Failed" if problem else "Succeeded"
    print(json.dumps({"message": "pre-traffic smoke check", "version": version, "status": status, "problem": problem}))
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    return status
