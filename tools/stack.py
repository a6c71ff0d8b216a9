"""A team's own stack: deploy it asking only what has no default, store the Paddle API key, check the deployment.

    python -m tools.stack deploy                     # make deploy (after sam build): the questions, sam deploy, put-key
    python -m tools.stack put-key [--stack <name>]   # make put-key: asks for the key without echo, stores it, checks
    python -m tools.stack check [--stack <name>]     # make check-deploy: what is wrong with the stored key, one line

`deploy` asks the stack's name and region, then the template's essential parameters, each only when it applies (the
JWT ones with an issuer, the hosted zone with a new domain), checked against the template's own patterns; the rest
keep their defaults (or the stack's previous values): `sam deploy --guided` asks them all. The answers are saved in
samconfig.toml and offered as the defaults next time.

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
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

KEY_PREFIXES = {"pdl_sdbx_": "sandbox", "pdl_live_": "production"}
Ask = Callable[[str], str]  # input(), getpass.getpass(): what a question is asked with


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
        return "That is not a Paddle API key (one line of printable characters, no spaces): nothing stored."
    of_key = next((env for prefix, env in KEY_PREFIXES.items() if key.startswith(prefix)), None)
    if of_key and environment in KEY_PREFIXES.values() and of_key != environment:
        kind = "live" if of_key == "production" else "sandbox"
        return f"That is a {kind} key, and the stack calls Paddle's {environment} (PaddleEnvironment): nothing stored."
    return None


def put_key(stack: StackInfo, secrets: Any, lambda_client: Any, read_key: Ask = getpass.getpass) -> int:
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


@dataclass(frozen=True)
class Question:
    name: str  # a template parameter, or stack_name / region
    text: str
    applies: Callable[[dict[str, str]], bool] = lambda answers: True


def _with_issuer(answers: dict[str, str]) -> bool:
    return bool(answers.get("JwtIssuer"))


QUESTIONS = (
    Question("stack_name", "Stack name"),
    Question("region", "AWS region"),
    Question("PaddleEnvironment", "Paddle environment: auto (from the key's prefix), sandbox or production"),
    Question("JwtIssuer", "OIDC issuer of your users' tokens (empty: no routes for signed-in users)"),
    Question("JwtAudience", "Accepted token audiences, comma-separated (Cognito: the app client ids)", _with_issuer),
    Question("CustomerLookup", "How a token names its customer: claim or verified_email", _with_issuer),
    Question(
        "CustomerIdClaim",
        "The token claim that holds the customer id (ctm_...)",
        lambda answers: _with_issuer(answers) and answers.get("CustomerLookup") == "claim",
    ),
    Question("CorsAllowedOrigins", "Origins of your pages that call those routes (empty: none)", _with_issuer),
    Question(
        "DomainName", "Your domain for emailed links: billing.example.com, or api.example.com/billing (empty: none)"
    ),
    Question(
        "HostedZoneId",
        "Route 53 hosted zone of that domain (empty: you add its DNS records yourself)",
        lambda answers: bool(answers.get("DomainName")) and "/" not in answers["DomainName"],
    ),
    Question("AlarmTopicArn", "SNS topic the alarms notify (empty: none)"),
)


def ask(saved: dict[str, str], read: Ask = input, template: Path = REPO / "template.yaml") -> dict[str, str]:
    """The answers, each checked as CloudFormation would check it; Enter takes the default shown."""
    parameters = _template_parameters(template)
    answers: dict[str, str] = {}
    for question in QUESTIONS:
        if not question.applies(answers):
            continue
        spec = parameters.get(question.name, {})
        default = saved.get(question.name, str(spec.get("Default", "")))
        while True:
            answer = read(f"{question.text} [{default}]: ").strip() or default
            problem = _refused(answer, spec)
            if problem is None:
                break
            print(problem)
        answers[question.name] = answer
    return answers


def sam_deploy_command(answers: dict[str, str]) -> list[str]:
    overrides = [f"{name}={value}" for name, value in answers.items() if name not in ("stack_name", "region")]
    return [
        str(REPO / ".venv" / "bin" / "sam"),
        "deploy",
        "--stack-name", answers["stack_name"],
        "--region", answers["region"],
        "--capabilities", "CAPABILITY_IAM",
        "--resolve-s3",
        "--s3-prefix", answers["stack_name"],
        "--parameter-overrides", *overrides,
        "--save-params",
    ]  # fmt: skip


def deploy(read: Ask = input) -> int:
    import boto3

    saved = _samconfig()
    overrides = dict(part.split("=", 1) for part in shlex.split(saved.get("parameter_overrides", "")) if "=" in part)
    answers = ask({**overrides, **{k: saved[k] for k in ("stack_name", "region") if k in saved}}, read)
    if subprocess.run(sam_deploy_command(answers), cwd=REPO, check=False).returncode != 0:  # noqa: S603
        return 1
    session = boto3.Session(region_name=answers["region"])
    stack = StackInfo.read(session.client("cloudformation"), answers["stack_name"])
    return put_key(stack, session.client("secretsmanager"), session.client("lambda"))


def _template_parameters(template: Path) -> dict[str, Any]:
    import yaml  # in the SAM CLI's environment; tags are skipped, only Parameters are read

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    parameters: dict[str, Any] = yaml.load(template.read_text(), Loader=Loader)["Parameters"]  # noqa: S506
    return parameters


def _refused(answer: str, spec: dict[str, Any]) -> str | None:
    allowed = spec.get("AllowedValues")
    if allowed and answer not in allowed:
        return f"One of: {', '.join(allowed)}"
    pattern = spec.get("AllowedPattern")
    if pattern and not re.fullmatch(pattern, answer):
        return spec.get("ConstraintDescription") or f"Must match {pattern}"
    return None


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(prog="python -m tools.stack", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("action", choices=["deploy", "put-key", "check"])
    parser.add_argument("--stack", default=None, help="the stack's name (default: samconfig.toml's)")
    parser.add_argument("--region", default=None, help="the stack's region (default: samconfig.toml's, or AWS_REGION)")
    parser.add_argument("--lambda-endpoint-url", default=None, help="another Invoke API, such as make run's")
    args = parser.parse_args(argv)
    if args.action == "deploy":
        return deploy()
    saved = _samconfig()
    session = boto3.Session(region_name=args.region or saved.get("region"))
    stack = StackInfo.read(session.client("cloudformation"), args.stack or saved["stack_name"])
    lambda_client = session.client("lambda", endpoint_url=args.lambda_endpoint_url)
    if args.action == "put-key":
        return put_key(stack, session.client("secretsmanager"), lambda_client)
    return check(stack, lambda_client)


def _samconfig() -> dict[str, str]:
    """The default environment's stack name, region and parameters in samconfig.toml, as a deploy saved them."""
    config = tomllib.loads((REPO / "samconfig.toml").read_text())["default"]
    return {**config["global"]["parameters"], **config.get("deploy", {}).get("parameters", {})}


if __name__ == "__main__":
    sys.exit(main())
