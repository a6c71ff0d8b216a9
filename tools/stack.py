"""A team's own stack, after `make deploy`: store the Paddle API key, and check the deployment.

    python -m tools.stack put-key [--stack <name>]   # make put-key: asks for the key without echo, stores it, checks
    python -m tools.stack check [--stack <name>]     # make check-deploy: what is wrong with the stored key, one line

The key is read with getpass (never echoed, never on a command line or in a file, never in the shell's history) and
goes to the stack's secret (output SecretArn) as {"api_key": "..."}, the shape managed rotation writes. The check
invokes the function (output FunctionAliasArn) with {"operation": "check_setup"}: the function reads the key as its
requests do and asks Paddle whether it may open portal sessions, then the deploy's smoke check runs. Exit 0: all good.
The stack and region default to samconfig.toml's (what `make deploy` saved).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KEY_PREFIXES = {"pdl_sdbx_": "sandbox", "pdl_live_": "production"}


@dataclass(frozen=True)
class StackInfo:
    name: str
    secret_arn: str  # where the key goes
    function: str  # what to invoke: the alias `live`
    paddle_environment: str  # the stack's PaddleEnvironment parameter
    region: str

    @classmethod
    def read(cls, cloudformation: Any, name: str) -> StackInfo:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
        return cls(
            name=name,
            secret_arn=outputs["SecretArn"],
            function=outputs["FunctionAliasArn"],
            paddle_environment=parameters.get("PaddleEnvironment", "auto"),
            region=cloudformation.meta.region_name,
        )


def key_problem(key: str, environment: str) -> str | None:
    """What is wrong with a key before it is stored, in one line; None if nothing is."""
    if any(c.isspace() or not c.isprintable() for c in key) or not 20 <= len(key) <= 200:
        return "That is not a Paddle API key (one line, no spaces, 50 to 69 characters): nothing stored."
    of_key = next((env for prefix, env in KEY_PREFIXES.items() if key.startswith(prefix)), None)
    if of_key and environment in KEY_PREFIXES.values() and of_key != environment:
        kind = "live" if of_key == "production" else "sandbox"
        return f"That is a {kind} key, and the stack calls Paddle's {environment} (PaddleEnvironment): nothing stored."
    return None


def put_key(
    stack: StackInfo, secrets: Any, lambda_client: Any, read_key: Callable[[str], str] = getpass.getpass
) -> int:
    key = read_key("Paddle API key (not shown; Enter keeps the stored one): ").strip()
    if not key:
        print("No key given: the stored one is kept.")
        return check(stack, lambda_client)
    problem = key_problem(key, stack.paddle_environment)
    if problem:
        print(problem)
        return 1
    secrets.put_secret_value(SecretId=stack.secret_arn, SecretString=json.dumps({"api_key": key}))
    print(f"Stored in {stack.secret_arn}.")
    return check(stack, lambda_client)


def check(stack: StackInfo, lambda_client: Any) -> int:
    from deploy_hook import smoke

    response = lambda_client.invoke(FunctionName=stack.function, Payload=b'{"operation": "check_setup"}')
    answer = json.loads(response["Payload"].read())
    if response.get("FunctionError"):
        print(f"The function raised {answer.get('errorType')}: {answer.get('errorMessage')}")
        return 1
    report = answer["data"]
    for problem in report["problems"]:
        print(problem)
    smoke_problem = smoke.check(lambda_client, stack.function, stack.region)
    if smoke_problem:
        print(f"Smoke check: {smoke_problem}")
    if report["ok"] and not smoke_problem:
        where = "Paddle's sandbox" if report["paddle_environment"] == "sandbox" else "live Paddle"
        print(f"OK: {stack.name} reads its key, a key of {where}, which may open portal sessions.")
        return 0
    return 1


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(prog="python -m tools.stack", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("action", choices=["put-key", "check"])
    parser.add_argument("--stack", default=None, help="the stack's name (default: samconfig.toml's)")
    parser.add_argument("--region", default=None, help="the stack's region (default: samconfig.toml's, or AWS_REGION)")
    parser.add_argument("--lambda-endpoint-url", default=None, help="another Invoke API, such as make run's")
    args = parser.parse_args(argv)
    saved = _samconfig()
    session = boto3.Session(region_name=args.region or saved.get("region"))
    stack = StackInfo.read(session.client("cloudformation"), args.stack or saved["stack_name"])
    lambda_client = session.client("lambda", endpoint_url=args.lambda_endpoint_url)
    if args.action == "put-key":
        return put_key(stack, session.client("secretsmanager"), lambda_client)
    return check(stack, lambda_client)


def _samconfig() -> dict[str, str]:
    """The default environment's stack name and region in samconfig.toml, as `sam deploy --guided` saved them."""
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parent.parent / "samconfig.toml").read_text())["default"]
    return {**config["global"]["parameters"], **config.get("deploy", {}).get("parameters", {})}


if __name__ == "__main__":
    sys.exit(main())
