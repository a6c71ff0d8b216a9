"""template.yaml: least privilege, every setting the code reads, routes and their auth, timeouts, layer build.

Reads the template as CloudFormation sees it (short-form tags become {"Ref": ...} / {"Fn::If": ...}), without
deploying or transforming it; `sam validate --lint` (make validate) checks the rest.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from paddle_portal.http_api.auth import Auth
from paddle_portal.http_api.routes import ROUTES
from paddle_portal.settings import DEFAULT_PORTAL_HOSTS, ENV_NAMES, LOCAL_ONLY_ENV_NAMES
from paddle_portal.signed_links import MIN_KEY_CHARS, SigningKeys
from tests.template import load_template

# Every variable the design contract says the function reads.
CONTRACT_ENV_VARS = (
    "PADDLE_API_KEY_SECRET_ID",
    "PADDLE_ENVIRONMENT",
    "PADDLE_API_BASE_URL",
    "SECRET_MAX_AGE_SECONDS",
    "CUSTOMER_ID_CLAIM",
    "PORTAL_ALLOWED_HOSTS",
    "PADDLE_REQUEST_BUDGET_SECONDS",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
)
API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29
# The function's route table is the one list of routes; the template must declare each with its authorizer.
IAM_ROUTES = {(route.method, route.template) for route in ROUTES if route.auth is Auth.IAM}
JWT_ROUTES = {(route.method, route.template) for route in ROUTES if route.auth is Auth.JWT}
# The one route without gateway authorization: the signed link in its query is the credential (signed_links.verify).
LINK_ROUTE = ("GET", "/links/portal")
# Each secret the function reads: (environment variable, the stack's own secret, its condition, the ARN parameter).
SECRETS = {
    "PADDLE_API_KEY_SECRET_ID": ("PaddleApiKeySecret", "CreateSecret", "PaddleApiKeySecretArn"),
    "PORTAL_LINK_SIGNING_SECRET_ID": ("PortalLinkSigningSecret", "CreateSigningSecret", "PortalLinkSigningSecretArn"),
}


def resources_of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == type_}


def branches(value: Any) -> Iterator[tuple[str | None, Any]]:
    """(condition, value) for a plain value, or for each branch of an Fn::If (AWS::NoValue dropped)."""
    if isinstance(value, dict) and "Fn::If" in value:
        condition, if_true, if_false = value["Fn::If"]
        for branch in (if_true, if_false):
            if branch != {"Ref": "AWS::NoValue"}:
                yield condition, branch
    else:
        yield None, value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def function(template: dict[str, Any]) -> dict[str, Any]:
    functions = resources_of_type(template, "AWS::Serverless::Function")
    assert len(functions) == 1, f"expected exactly one function, found {sorted(functions)}"
    (props,) = (res["Properties"] for res in functions.values())
    return props


@pytest.fixture(scope="module")
def function_name(template: dict[str, Any]) -> str:
    (name,) = resources_of_type(template, "AWS::Serverless::Function")
    return name


@pytest.fixture(scope="module")
def effective(template: dict[str, Any], function: dict[str, Any]) -> dict[str, Any]:
    """Function properties with Globals.Function applied (function wins; environment variables merge)."""
    globals_ = template.get("Globals", {}).get("Function", {})
    merged = {**globals_, **function}
    variables = {
        **globals_.get("Environment", {}).get("Variables", {}),
        **function.get("Environment", {}).get("Variables", {}),
    }
    merged["Environment"] = {"Variables": variables}
    return merged


@pytest.fixture(scope="module")
def env(effective: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = effective["Environment"]["Variables"]
    return variables


@pytest.fixture(scope="module")
def statements(function: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    """Every IAM statement of the function's inline policies, with the condition that guards it (if any)."""
    found = []
    for policy in function.get("Policies", []):
        for condition, document in branches(policy):
            # Only inline documents: a SAM policy template or a managed policy name could grant anything.
            assert isinstance(document, dict), f"non-inline policy {policy!r}"
            assert "Statement" in document, f"non-inline policy {policy!r}"
            found.extend((condition, statement) for statement in document["Statement"])
    return found


def test_runtime_and_architecture_match_the_lambda_target(effective: dict[str, Any]) -> None:
    assert effective["Runtime"] == "python3.13"
    assert effective["Architectures"] == ["arm64"]


def test_handler_is_the_package_entry_point(function: dict[str, Any]) -> None:
    assert function["CodeUri"].rstrip("/") == "functions"
    assert function["Handler"] == "paddle_portal.app.lambda_handler"
    module_name, _, attribute = function["Handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module_name), attribute))


@pytest.mark.parametrize("name", sorted(set(CONTRACT_ENV_VARS) | set(ENV_NAMES.values())))
def test_every_setting_the_code_reads_is_set(env: dict[str, Any], name: str) -> None:
    assert name in env, f"{name} is read by the function but not set in template.yaml"


def test_powertools_identity_matches_the_metrics_alarm(env: dict[str, Any], template: dict[str, Any]) -> None:
    assert env["POWERTOOLS_SERVICE_NAME"] == "paddle-portal"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "PaddlePortal"
    (alarm,) = (
        res["Properties"]
        for res in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
        if res["Properties"].get("MetricName") == "PaddleErrors"
    )
    assert alarm["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]}]


def test_each_secret_id_points_at_its_own_secret(env: dict[str, Any], template: dict[str, Any]) -> None:
    assert set(resources_of_type(template, "AWS::SecretsManager::Secret")) == {name for name, _, _ in SECRETS.values()}
    for variable, (secret_name, condition, parameter) in SECRETS.items():
        # Either the secret this stack creates, or the existing one whose ARN was given: never both, never another.
        assert env[variable] == {"Fn::If": [condition, {"Ref": secret_name}, {"Ref": parameter}]}, variable
        assert template["Resources"][secret_name]["Condition"] == condition
        assert template["Conditions"][condition] == {"Fn::Equals": [{"Ref": parameter}, ""]}


def test_signing_secret_is_generated_in_the_shape_the_function_reads(template: dict[str, Any]) -> None:
    generate = template["Resources"]["PortalLinkSigningSecret"]["Properties"]["GenerateSecretString"]
    # What CloudFormation makes of it: the template object plus one random string under GenerateStringKey, drawn
    # from letters and digits (ExcludePunctuation; spaces are excluded by default).
    assert generate["ExcludePunctuation"] is True
    assert generate.get("IncludeSpace", False) is False
    assert generate["PasswordLength"] >= MIN_KEY_CHARS
    generated = {**json.loads(generate["SecretStringTemplate"]), generate["GenerateStringKey"]: "a1B2" * 16}

    keys = SigningKeys.parse(json.dumps(generated))

    assert keys.active == generate["GenerateStringKey"]
    assert set(keys.keys) == {keys.active}


def test_link_base_url_parameter_is_https_and_optional(template: dict[str, Any], env: dict[str, Any]) -> None:
    parameter = template["Parameters"]["PortalLinkBaseUrl"]
    assert parameter["Default"] == ""
    assert re.fullmatch(parameter["AllowedPattern"], "https://billing.example.com/v1")
    assert not re.fullmatch(parameter["AllowedPattern"], "http://billing.example.com")
    assert env["PORTAL_LINK_BASE_URL"] == {
        "Fn::If": ["HasLinkBaseUrl", {"Ref": "PortalLinkBaseUrl"}, {"Ref": "AWS::NoValue"}]
    }


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        pytest.param(",".join(DEFAULT_PORTAL_HOSTS), True, id="default"),
        pytest.param("billing.example.com", True, id="custom-domain"),
        pytest.param("127.0.0.1", False, id="ipv4-loopback"),
        pytest.param("10.0.0.7", False, id="ipv4-private"),
        pytest.param("localhost", False, id="localhost"),
        pytest.param("portal.localhost", False, id="localhost-subdomain"),
        pytest.param("customer-portal.paddle.com,127.0.0.1", False, id="loopback-after-a-real-host"),
        pytest.param("customer-portal.paddle.com,localhost", False, id="localhost-after-a-real-host"),
        pytest.param("http://customer-portal.paddle.com", False, id="scheme"),
        pytest.param("customer-portal.paddle.com:8443", False, id="port"),
        pytest.param("portal", False, id="single-label"),
        pytest.param("customer-portal.paddle.com,", False, id="trailing-comma"),
    ],
)
def test_portal_hosts_parameter_takes_public_host_names_only(
    template: dict[str, Any], env: dict[str, Any], value: str, accepted: bool
) -> None:
    # Links are redirected to only when they are https:// on these hosts; a loopback or IP host has no place here.
    parameter = template["Parameters"]["PortalAllowedHosts"]
    assert re.fullmatch(parameter["AllowedPattern"], parameter["Default"])
    assert bool(re.fullmatch(parameter["AllowedPattern"], value)) is accepted
    assert env["PORTAL_ALLOWED_HOSTS"] == {"Ref": "PortalAllowedHosts"}


@pytest.mark.parametrize("name", sorted(LOCAL_ONLY_ENV_NAMES.values()))
def test_the_template_can_never_set_a_local_only_setting(
    template: dict[str, Any], env: dict[str, Any], name: str
) -> None:
    # The local run's portal stand-in (plain http on loopback) is reachable only through this variable, which the
    # function refuses inside Lambda anyway; no parameter, no Globals entry, no mention.
    assert name not in env
    assert name not in json.dumps(template)


def test_outputs_name_both_secrets(template: dict[str, Any], env: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["SecretArn"]["Value"] == env["PADDLE_API_KEY_SECRET_ID"]
    assert outputs["LinkSigningSecretArn"]["Value"] == env["PORTAL_LINK_SIGNING_SECRET_ID"]


def test_api_key_is_never_in_an_environment_variable(env: dict[str, Any]) -> None:
    for name, value in env.items():
        assert "API_KEY" not in name or name == "PADDLE_API_KEY_SECRET_ID", name
        text = repr(value)
        assert "{{resolve:secretsmanager" not in text, f"{name} resolves the secret into the environment"
        assert "pdl_" not in text, f"{name} looks like it holds a Paddle key"


def test_timeouts_nest_budget_function_api_gateway(effective: dict[str, Any], env: dict[str, Any]) -> None:
    budget = float(env["PADDLE_REQUEST_BUDGET_SECONDS"])
    timeout = effective["Timeout"]
    assert budget < timeout < API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS


def test_secret_read_is_least_privilege(
    statements: list[tuple[str | None, dict[str, Any]]], env: dict[str, Any]
) -> None:
    assert statements, "the function has no inline policy statements"
    for _, statement in statements:
        assert statement["Effect"] == "Allow"
        assert not any("*" in action for action in as_list(statement["Action"])), statement
        assert "*" not in as_list(statement["Resource"]), statement
        assert "NotAction" not in statement
        assert "NotResource" not in statement
    secret_statements = [
        statement
        for _, statement in statements
        if any(action.startswith("secretsmanager:") for action in as_list(statement["Action"]))
    ]
    # One statement per secret, each GetSecretValue only, on exactly that secret: the two the function reads.
    assert len(secret_statements) == len(SECRETS)
    for statement in secret_statements:
        assert as_list(statement["Action"]) == ["secretsmanager:GetSecretValue"], statement
        assert not isinstance(statement["Resource"], list), "one secret per statement"
    resources = [statement["Resource"] for statement in secret_statements]
    assert sorted(map(repr, resources)) == sorted(repr(env[variable]) for variable in SECRETS)


def test_kms_decrypt_only_when_a_key_is_given(
    statements: list[tuple[str | None, dict[str, Any]]], template: dict[str, Any]
) -> None:
    kms = [
        (condition, statement)
        for condition, statement in statements
        if any(action.startswith("kms:") for action in as_list(statement["Action"]))
    ]
    assert len(kms) == 1
    ((condition, statement),) = kms
    assert condition == "HasKmsKey"
    assert template["Conditions"]["HasKmsKey"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "SecretKmsKeyArn"}, ""]}]}
    assert as_list(statement["Action"]) == ["kms:Decrypt"]
    assert statement["Resource"] == {"Ref": "SecretKmsKeyArn"}


def test_event_routes_use_aws_iam_except_the_signed_link_route(
    function: dict[str, Any], template: dict[str, Any]
) -> None:
    (api_name,) = resources_of_type(template, "AWS::Serverless::HttpApi")
    api = template["Resources"][api_name]["Properties"]
    iam_routes, open_routes = set(), set()
    for event in function["Events"].values():
        props = event["Properties"]
        assert event["Type"] == "HttpApi"
        assert props["ApiId"] == {"Ref": api_name}
        route = (props["Method"].upper(), props["Path"])
        if "Auth" in props:
            assert props["Auth"] == {"Authorizer": "AWS_IAM"}, props
            iam_routes.add(route)
        else:
            open_routes.add(route)
    assert iam_routes == IAM_ROUTES
    # Anonymous on purpose, and the only such route: the function verifies the link before anything else.
    assert open_routes == {LINK_ROUTE}
    # No default authorizer that would silently apply to (or be expected on) the open route.
    assert "DefaultAuthorizer" not in api["Auth"]
    assert api["Auth"]["EnableIamAuthorizer"] is True


def test_the_open_route_is_the_functions_only_unauthenticated_route() -> None:
    open_in_function = {(route.method, route.template) for route in ROUTES if route.auth is Auth.LINK}
    assert open_in_function == {LINK_ROUTE}
    assert len(IAM_ROUTES) + len(JWT_ROUTES) + 1 == len(ROUTES)  # every other route needs IAM or a token


def test_jwt_routes_exist_only_with_an_issuer(template: dict[str, Any], function_name: str) -> None:
    (api,) = resources_of_type(template, "AWS::Serverless::HttpApi").values()
    body = api["Properties"]["DefinitionBody"]
    assert template["Conditions"]["HasJwtIssuer"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "JwtIssuer"}, ""]}]}

    routes = set()
    for path, item in body["paths"].items():
        ((condition, operations),) = branches(item)
        assert condition == "HasJwtIssuer", f"{path} is not conditional on HasJwtIssuer"
        for method, operation in operations.items():
            assert operation["security"] == [{"JwtAuthorizer": []}], (method, path)
            uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            # The alias AutoPublishAlias creates (SnapStart applies to published versions only).
            assert f"${{{function_name}Aliaslive}}" in uri
            routes.add((method.upper(), path))
    assert routes == JWT_ROUTES

    ((condition, scheme),) = branches(body["components"]["securitySchemes"]["JwtAuthorizer"])
    assert condition == "HasJwtIssuer"
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt"
    assert authorizer["jwtConfiguration"] == {"issuer": {"Ref": "JwtIssuer"}, "audience": {"Ref": "JwtAudience"}}

    # API Gateway may only invoke the function for the JWT routes when they exist.
    permissions = {
        res["Properties"]["SourceArn"]["Fn::Sub"].rsplit("/*/", 1)[1]: res
        for res in resources_of_type(template, "AWS::Lambda::Permission").values()
    }
    assert set(permissions) == {f"{method}{path}" for method, path in JWT_ROUTES}
    for permission in permissions.values():
        assert permission["Condition"] == "HasJwtIssuer"
        assert permission["Properties"]["FunctionName"] == {"Ref": f"{function_name}.Alias"}


def test_layer_is_built_for_arm64_python313(template: dict[str, Any], function: dict[str, Any]) -> None:
    (layer_name, layer), *others = resources_of_type(template, "AWS::Serverless::LayerVersion").items()
    assert not others
    # layers/dependencies/Makefile fetches arm64 wheels and compiles hash-checked bytecode (see bench/README.md).
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    assert layer["Properties"]["ContentUri"].rstrip("/") == "layers/dependencies"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert {"Ref": layer_name} in function["Layers"]


def test_every_log_group_has_a_retention(template: dict[str, Any], function: dict[str, Any]) -> None:
    log_groups = resources_of_type(template, "AWS::Logs::LogGroup")
    assert log_groups
    for name, group in log_groups.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
    assert function["LoggingConfig"]["LogGroup"]["Ref"] in log_groups


def test_created_secret_placeholder_is_one_the_function_recognises(template: dict[str, Any]) -> None:
    # Until the operator puts the key in the stack-created secret, calls fail with a message saying so
    # (secrets.PLACEHOLDER) instead of sending the placeholder to Paddle as a key.
    from paddle_portal.secrets import PLACEHOLDER

    assert template["Resources"]["PaddleApiKeySecret"]["Properties"]["SecretString"] == PLACEHOLDER


def test_cold_start_mode_switches_snapstart_on_the_published_alias(
    template: dict[str, Any], function: dict[str, Any]
) -> None:
    parameter = template["Parameters"]["ColdStartMode"]
    assert parameter["Default"] == "on-demand"
    assert parameter["AllowedValues"] == ["on-demand", "snapstart"]
    assert template["Conditions"]["UseSnapStart"] == {"Fn::Equals": [{"Ref": "ColdStartMode"}, "snapstart"]}
    # SnapStart applies to published versions: every deploy publishes one behind the alias the events target.
    assert function["AutoPublishAlias"] == "live"
    assert function["AutoPublishAliasAllProperties"] is True
    assert function["SnapStart"] == {
        "Fn::If": ["UseSnapStart", {"ApplyOn": "PublishedVersions"}, {"Ref": "AWS::NoValue"}]
    }


def test_snapstart_refuses_the_secrets_extension(template: dict[str, Any]) -> None:
    # The extension needs AWS_SESSION_TOKEN, which SnapStart environments do not get: the stack must not deploy both.
    rule = template["Rules"]["SnapStartWithoutSecretsExtension"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "ColdStartMode"}, "snapstart"]}
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "SecretsExtensionLayerArn"}, ""]}
