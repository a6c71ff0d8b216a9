"""template.yaml as the stack it deploys (tests/infrastructure/stack.py: SAM's translator, then the parameters
played): least privilege, the routes and who may call them, the settings the function gets, what logs may record.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from paddle_portal.http_api.auth import Auth
from paddle_portal.http_api.routes import ROUTES
from paddle_portal.secrets import PLACEHOLDER, parse_api_key
from paddle_portal.settings import ENV_NAMES, LOCAL_ONLY_ENV_NAMES, Settings
from paddle_portal.signed_links import MIN_KEY_CHARS
from tests.infrastructure.stack import Stack, as_list
from tests.template import TEMPLATE, load_template

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example"
WITH_JWT = {"JwtIssuer": ISSUER, "JwtAudience": "client-1"}
EXISTING_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:paddle-key-AbCdEf"
API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack(**WITH_JWT)


def function_of(stack: Stack) -> dict[str, Any]:
    properties: dict[str, Any] = stack.resources["PortalFunction"]["Properties"]
    return properties


def variables(stack: Stack) -> dict[str, Any]:
    found: dict[str, Any] = function_of(stack)["Environment"]["Variables"]
    return found


def routes_of(stack: Stack) -> dict[tuple[str, str], list[Any]]:
    """(METHOD, path) -> the route's security requirement, as API Gateway imports the body."""
    body = stack.one("AWS::ApiGatewayV2::Api")["Body"]
    return {
        (method.upper(), path): operation.get("security", [])
        for path, item in body["paths"].items()
        for method, operation in item.items()
    }


# --- What a newcomer is asked ---


def test_few_parameters_grouped_essentials_first() -> None:
    template = load_template()
    parameters = list(template["Parameters"])
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [name for group in groups for name in group["Parameters"]]

    # sam deploy --guided asks each parameter, in the template's order, besides its own 8 questions: at most 20
    assert len(parameters) <= 12
    assert sorted(grouped) == sorted(parameters)  # every parameter in exactly one group
    assert parameters[:2] == ["PaddleEnvironment", "JwtIssuer"]
    for name, spec in template["Parameters"].items():
        assert "Default" in spec, f"{name}: a first deploy must not need an answer"


# --- The function and its settings ---


def test_the_function_is_the_package_on_arm64_python313(stack: Stack) -> None:
    function = function_of(stack)
    layer = stack.one("AWS::Lambda::LayerVersion")
    template = load_template()

    assert (function["Runtime"], function["Architectures"]) == ("python3.13", ["arm64"])
    assert function["Handler"] == "paddle_portal.app.lambda_handler"
    assert layer["CompatibleArchitectures"] == ["arm64"]
    assert layer["CompatibleRuntimes"] == ["python3.13"]
    assert template["Resources"]["DependenciesLayer"]["Metadata"] == {
        "BuildMethod": "makefile",
        "BuildArchitecture": "arm64",
    }


def test_every_variable_the_template_sets_is_a_setting_the_code_reads(stack: Stack) -> None:
    names = set(variables(stack))
    readable = set(ENV_NAMES.values())

    assert {"PADDLE_API_KEY_SECRET_ID", "PORTAL_LINK_SIGNING_SECRET_ID"} <= names
    assert {name for name in names if not name.startswith("POWERTOOLS_")} <= readable
    assert not names & set(LOCAL_ONLY_ENV_NAMES.values())  # the local stand-in is refused inside Lambda too


@pytest.mark.parametrize(
    "parameters",
    [
        pytest.param({}, id="created-secret"),
        pytest.param({"PaddleApiKeySecretArn": EXISTING_SECRET}, id="existing-secret"),
    ],
)
def test_the_key_is_never_in_the_environment_only_where_to_read_it(parameters: dict[str, str]) -> None:
    stack = Stack(**parameters)
    values = variables(stack)
    expected = parameters.get("PaddleApiKeySecretArn", {"Ref": "PaddleApiKeySecret"})

    assert values["PADDLE_API_KEY_SECRET_ID"] == expected
    assert values["PORTAL_LINK_SIGNING_SECRET_ID"] == {"Ref": "PortalLinkSigningSecret"}
    assert ("PaddleApiKeySecret" in stack.resources) is not parameters
    assert not re.search(r"pdl_(live|sdbx)_|apikey", json.dumps(values))


def test_the_created_secrets_hold_what_the_function_reads(stack: Stack) -> None:
    placeholder = stack.resources["PaddleApiKeySecret"]["Properties"]["SecretString"]
    generated = stack.resources["PortalLinkSigningSecret"]["Properties"]["GenerateSecretString"]

    assert placeholder == PLACEHOLDER
    with pytest.raises(Exception, match="placeholder"):  # answered as configuration_error, never sent to Paddle
        parse_api_key(placeholder)
    assert json.loads(generated["SecretStringTemplate"]) == {"active": generated["GenerateStringKey"]}
    assert generated["PasswordLength"] >= MIN_KEY_CHARS
    assert generated["ExcludePunctuation"] is True


def test_timeouts_nest_paddle_budget_function_api_gateway(stack: Stack) -> None:
    budget = Settings(secret_id="x").request_budget_seconds  # the template leaves the code's default
    assert "PADDLE_REQUEST_BUDGET_SECONDS" not in variables(stack)
    assert budget < function_of(stack)["Timeout"] < API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS


def test_events_are_never_logged_nor_responses_traced(stack: Stack) -> None:
    values = variables(stack)
    assert values["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"
    assert values["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"


@pytest.mark.parametrize(
    ("mode", "snapstart", "extension_layer"),
    [
        pytest.param("on-demand", False, False, id="on-demand"),
        pytest.param("snapstart", True, False, id="snapstart"),
        pytest.param(
            "arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:12",
            False,
            True,
            id="secrets-extension",
        ),
    ],
)
def test_cold_start_mode(mode: str, snapstart: bool, extension_layer: bool) -> None:
    stack = Stack(ColdStartMode=mode)
    function = function_of(stack)

    assert ("SnapStart" in function) is snapstart
    assert (mode in function["Layers"]) is extension_layer
    assert ("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT" in variables(stack)) is extension_layer
    assert stack.of_type("AWS::Lambda::Alias")  # every mode publishes the alias "live" that callers use


# --- Routes: who may call what ---


def test_every_route_of_the_function_with_its_authorizer(stack: Stack) -> None:
    expected = {
        (route.method, route.template): {Auth.IAM: [{"AWS_IAM": []}], Auth.JWT: [{"JwtAuthorizer": []}]}.get(
            route.auth, []
        )
        for route in ROUTES
    }
    assert routes_of(stack) == expected  # the signed-link route, and only it, has no authorizer
    schemes = stack.one("AWS::ApiGatewayV2::Api")["Body"]["components"]["securitySchemes"]
    assert schemes["AWS_IAM"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    jwt = schemes["JwtAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert jwt["jwtConfiguration"] == {"issuer": ISSUER, "audience": ["client-1"]}


def test_without_an_issuer_there_is_no_jwt_route() -> None:
    stack = Stack()
    assert set(routes_of(stack)) == {(r.method, r.template) for r in ROUTES if r.auth is not Auth.JWT}
    assert "JwtAuthorizer" not in stack.one("AWS::ApiGatewayV2::Api")["Body"]["components"]["securitySchemes"]


def test_every_route_calls_the_alias_and_api_gateway_may_call_nothing_else(stack: Stack) -> None:
    body = stack.one("AWS::ApiGatewayV2::Api")["Body"]
    uris = {
        json.dumps(op["x-amazon-apigateway-integration"]["uri"])
        for item in body["paths"].values()
        for op in item.values()
    }
    (permission,) = stack.of_type("AWS::Lambda::Permission").values()

    assert len(uris) == 1
    assert "${PortalFunctionAliaslive}" in uris.pop()
    assert permission["Properties"]["FunctionName"] == {"Ref": "PortalFunctionAliaslive"}
    assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com"
    assert permission["Properties"]["SourceArn"]["Fn::Sub"].endswith(":${PortalHttpApi}/*")  # this API only


def test_route_budgets_per_caller_class(stack: Stack) -> None:
    stage = stack.one("AWS::ApiGatewayV2::Stage")
    budgets = {key: (s["ThrottlingRateLimit"], s["ThrottlingBurstLimit"]) for key, s in stage["RouteSettings"].items()}
    default = (
        stage["DefaultRouteSettings"]["ThrottlingRateLimit"],
        stage["DefaultRouteSettings"]["ThrottlingBurstLimit"],
    )
    keys = {route.auth: f"{route.method} {route.template}" for route in ROUTES}

    # API Gateway refuses a setting for a route it does not have: the JWT routes (conditional) take the default
    assert {f"{r.method} {r.template}" for r in ROUTES if r.auth is not Auth.JWT} == set(budgets)
    assert budgets[keys[Auth.LINK]][0] > 20  # a flood of bad links at 20/s leaves room for genuine ones
    assert default[0] > 20  # so does one customer's script at 20/s on a JWT route
    assert budgets[keys[Auth.IAM]] != default
    assert budgets[keys[Auth.LINK]] != default
    for rate, burst in [*budgets.values(), default]:
        assert burst >= rate >= 1
    assert int(variables(stack)["CUSTOMER_SESSION_BURST"]) >= 1  # one customer's Paddle sessions are bounded


def test_access_logs_record_no_query_headers_body_or_claims(stack: Stack) -> None:
    fields = json.loads(stack.one("AWS::ApiGatewayV2::Stage")["AccessLogSettings"]["Format"])
    recorded = " ".join(fields.values())
    assert not re.search(r"querystring|header|body|authorizer\.claims|\$context\.authorizer\.jwt", recorded, re.I)


def test_every_log_group_keeps_its_logs_for_a_while(stack: Stack) -> None:
    groups = stack.of_type("AWS::Logs::LogGroup")
    assert len(groups) == 2
    assert all(group["Properties"]["RetentionInDays"] >= 7 for group in groups.values())
    assert function_of(stack)["LoggingConfig"] == {"LogGroup": {"Ref": "PortalFunctionLogGroup"}}


# --- Least privilege ---


@pytest.mark.parametrize(
    "parameters",
    [
        pytest.param(WITH_JWT, id="created-secret"),
        pytest.param({"PaddleApiKeySecretArn": EXISTING_SECRET}, id="existing"),
    ],
)
def test_every_statement_names_its_actions_and_resources(parameters: dict[str, str]) -> None:
    stack = Stack(**parameters)
    for holder, statement in stack.statements():
        actions = as_list(statement["Action"])
        assert all("*" not in action for action in actions), (holder, statement)
        if "Principal" in statement:  # a role's trust policy
            continue
        for resource in as_list(statement["Resource"]):
            text = json.dumps(resource)
            if actions == ["codedeploy:PutLifecycleEventHookExecutionStatus"]:  # the hook reports on this app only
                assert text.endswith(':deploymentgroup:${ServerlessDeploymentApplication}/*"}'), statement
                continue
            # kms:Decrypt is the one grant on "any key": only through Secrets Manager, only for our secret
            if "*" in text:
                assert actions == ["kms:Decrypt"], (holder, statement)
                assert statement["Condition"]["StringEquals"]["kms:EncryptionContext:SecretARN"] == EXISTING_SECRET
                assert "secretsmanager." in json.dumps(statement["Condition"]["StringEquals"]["kms:ViaService"])


@pytest.mark.parametrize(
    ("parameters", "api_key_secret"),
    [
        pytest.param(WITH_JWT, {"Ref": "PaddleApiKeySecret"}, id="created-secret"),
        pytest.param({"PaddleApiKeySecretArn": EXISTING_SECRET}, EXISTING_SECRET, id="existing"),
    ],
)
def test_the_function_reads_its_two_secrets_and_decrypts_only_an_existing_one(
    parameters: dict[str, str], api_key_secret: Any
) -> None:
    stack = Stack(**parameters)
    granted = [s for holder, s in stack.statements() if holder == "PortalFunctionRole" and "Principal" not in s]
    reads = sorted(json.dumps(s["Resource"]) for s in granted if s["Action"] == "secretsmanager:GetSecretValue")
    decrypts = [s for s in granted if "kms:Decrypt" in as_list(s["Action"])]

    assert reads == sorted([json.dumps(api_key_secret), json.dumps({"Ref": "PortalLinkSigningSecret"})])
    assert len(decrypts) == (0 if "Ref" in api_key_secret else 1)
    assert {a for s in granted for a in as_list(s["Action"])} <= {"secretsmanager:GetSecretValue", "kms:Decrypt"}


def test_the_secret_parameter_cannot_widen_the_grant() -> None:
    pattern = load_template()["Parameters"]["PaddleApiKeySecretArn"]["AllowedPattern"]
    assert re.fullmatch(pattern, EXISTING_SECRET)
    for widened in ("*", "arn:aws:secretsmanager:us-east-1:123456789012:secret:*", EXISTING_SECRET + "*"):
        assert not re.fullmatch(pattern, widened)


def test_the_invoke_policy_allows_invoking_this_function_only(stack: Stack) -> None:
    ((_holder, statement),) = [(h, s) for h, s in stack.statements() if h == "InvokePolicy"]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Resource"] == [{"Ref": "PortalFunctionAliaslive"}, {"Fn::GetAtt": ["PortalFunction", "Arn"]}]
    assert stack.outputs["InvokePolicyArn"] == {"Ref": "InvokePolicy"}


def test_no_secret_value_is_written_in_the_template() -> None:
    text = TEMPLATE.read_text()
    assert not re.search(r"pdl_(live|sdbx)_apikey_\w{8,}", text)
    assert "{{resolve:secretsmanager" not in text
    assert not re.search(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b", text)


# --- Rollout: the canary, its gates and its hook ---


def test_a_new_version_shifts_by_canary_and_rolls_back_on_its_own_failures(stack: Stack) -> None:
    group = stack.one("AWS::CodeDeploy::DeploymentGroup")
    alias = stack.resources["PortalFunctionAliaslive"]
    allowed = load_template()["Parameters"]["DeploymentType"]["AllowedValues"]

    assert group["DeploymentConfigName"]["Fn::Sub"][1] == {"ConfigName": "Canary10Percent5Minutes"}
    assert not [kind for kind in allowed if "Every10Minutes" in kind]  # 100 minutes outlast the deploy job
    assert {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"} <= set(group["AutoRollbackConfiguration"]["Events"])
    assert group["AutoRollbackConfiguration"]["Enabled"] is True
    assert group["AlarmConfiguration"]["Enabled"] is True
    gates = {alarm["Name"]["Ref"] for alarm in group["AlarmConfiguration"]["Alarms"]}
    assert gates == {"NewVersionServerFailuresAlarm", "NewVersionErrorsAlarm"}
    update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    assert update["BeforeAllowTrafficHook"] == {"Ref": "PreTrafficHook"}
    assert Stack(DeploymentType="AllAtOnce").one("AWS::CodeDeploy::DeploymentGroup")["DeploymentConfigName"]["Fn::Sub"][
        1
    ] == {"ConfigName": "AllAtOnce"}


def test_the_gates_watch_the_new_version_only(stack: Stack) -> None:
    version = {"Fn::GetAtt": [next(iter(stack.of_type("AWS::Lambda::Version"))), "Version"]}
    for name in ("NewVersionServerFailuresAlarm", "NewVersionErrorsAlarm"):
        alarm = stack.resources[name]["Properties"]
        dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        # a version number in the dimensions: each deploy starts with a clear alarm, and an older version's
        # failures never block a fix
        assert version in dimensions.values(), name
        assert alarm["Period"] == 60
        assert alarm["TreatMissingData"] == "notBreaching"


def test_the_server_failures_gate_matches_the_metric_the_function_emits(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from paddle_portal.observability import record_server_failure

    variables = stack.resources["PortalFunction"]["Properties"]["Environment"]["Variables"]
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", variables["POWERTOOLS_SERVICE_NAME"])
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "7")
    record_server_failure()
    emitted = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    ((directive,),) = [emitted["_aws"]["CloudWatchMetrics"]]
    alarm = stack.resources["NewVersionServerFailuresAlarm"]["Properties"]

    assert directive["Namespace"] == alarm["Namespace"] == variables["POWERTOOLS_METRICS_NAMESPACE"]
    assert [metric["Name"] for metric in directive["Metrics"]] == [alarm["MetricName"]]
    (dimension_set,) = directive["Dimensions"]
    assert sorted(dimension_set) == sorted(d["Name"] for d in alarm["Dimensions"])
    assert emitted["version"] == "7"
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]}["service"] == emitted["service"]


def test_the_hook_may_invoke_the_new_version_and_report_nothing_more(stack: Stack) -> None:
    hook = stack.resources["PreTrafficHook"]["Properties"]
    granted = [s for holder, s in stack.statements() if holder == "PreTrafficHookRole" and "Principal" not in s]

    # SAM's CodeDeploy role may invoke only functions named CodeDeployHook_*
    assert hook["FunctionName"]["Fn::Sub"].startswith("CodeDeployHook_")
    assert hook["Handler"] == "deploy_hook.app.lambda_handler"
    assert hook["Environment"]["Variables"]["NEW_VERSION"] == {"Ref": next(iter(stack.of_type("AWS::Lambda::Version")))}
    grants = {statement["Action"]: statement["Resource"] for statement in granted}
    assert set(grants) == {"lambda:InvokeFunction", "codedeploy:PutLifecycleEventHookExecutionStatus"}
    assert grants["lambda:InvokeFunction"] == hook["Environment"]["Variables"]["NEW_VERSION"]
    assert ":deploymentgroup:${ServerlessDeploymentApplication}/*" in json.dumps(
        grants["codedeploy:PutLifecycleEventHookExecutionStatus"]
    )


# --- A domain for emailed links ---


@pytest.mark.parametrize(
    ("domain", "zone", "created", "link_base"),
    [
        pytest.param("", "", set(), None, id="none"),
        pytest.param(
            "billing.example.com",
            "Z0123456789ABC",
            {"DomainCertificate", "ApiDomain", "ApiDomainMapping", "DomainRecord"},
            "https://billing.example.com",
            id="new-domain-in-a-zone",
        ),
        pytest.param(
            "billing.example.com",
            "",
            {"DomainCertificate", "ApiDomain", "ApiDomainMapping"},
            "https://billing.example.com",
            id="new-domain-dns-elsewhere",
        ),
        pytest.param(
            "api.example.com/billing",
            "",
            {"ApiDomainMapping"},
            "https://api.example.com/billing",
            id="path-on-a-domain",
        ),
    ],
)
def test_a_domain_carries_the_links_and_closes_the_execute_api_address(
    domain: str, zone: str, created: set[str], link_base: str | None
) -> None:
    stack = Stack(DomainName=domain, HostedZoneId=zone)
    body = stack.one("AWS::ApiGatewayV2::Api")["Body"]
    disabled = body["servers"][0]["x-amazon-apigateway-endpoint-configuration"]["disableExecuteApiEndpoint"]

    assert created == set(stack.resources) & {"DomainCertificate", "ApiDomain", "ApiDomainMapping", "DomainRecord"}
    assert variables(stack).get("PORTAL_LINK_BASE_URL") == link_base  # direct invokers can mint links too
    assert disabled is bool(domain)  # old execute-api links cannot go around the domain
    if link_base:
        assert stack.outputs["ApiUrl"] == link_base + "/"
        Settings(secret_id="x", link_base_url=link_base)  # the function accepts what the template sets
    mapping = stack.resources.get("ApiDomainMapping", {}).get("Properties", {})
    if domain == "api.example.com/billing":
        assert mapping["DomainName"] == "api.example.com"  # another stack's domain: nothing created for it
        assert mapping["ApiMappingKey"] == "billing"
    elif domain:
        assert mapping["DomainName"] == {"Ref": "ApiDomain"}
        assert "ApiMappingKey" not in mapping
        configuration = stack.resources["ApiDomain"]["Properties"]["DomainNameConfigurations"][0]
        assert configuration["CertificateArn"] == {"Ref": "DomainCertificate"}
        assert (configuration["EndpointType"], configuration["SecurityPolicy"]) == ("REGIONAL", "TLS_1_2")
    if "DomainRecord" in created:
        record = stack.resources["DomainRecord"]["Properties"]
        assert (record["HostedZoneId"], record["Name"], record["Type"]) == (zone, domain, "A")
        assert record["AliasTarget"]["DNSName"] == {"Fn::GetAtt": ["ApiDomain", "RegionalDomainName"]}
        validation = stack.resources["DomainCertificate"]["Properties"]["DomainValidationOptions"]
        assert validation == [{"DomainName": domain, "HostedZoneId": zone}]


@pytest.mark.parametrize(
    "value", ["https://billing.example.com", "billing.example.com/a/b", "Billing.Example.com", "localhost", "x.com/"]
)
def test_the_domain_parameter_takes_a_host_or_a_host_and_one_path_segment(value: str) -> None:
    pattern = load_template()["Parameters"]["DomainName"]["AllowedPattern"]
    assert re.fullmatch(pattern, "billing.example.com")
    assert re.fullmatch(pattern, "api.example.com/billing")
    assert not re.fullmatch(pattern, value)
