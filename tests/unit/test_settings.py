"""Settings come from the environment once; each bad value fails loudly, naming its variable."""

from __future__ import annotations

import pytest

from paddle_portal import secrets
from paddle_portal.deadline import LAMBDA_SAFETY_MARGIN_SECONDS
from paddle_portal.errors import ConfigurationError
from paddle_portal.paddle.client import READ_TIMEOUT_SECONDS
from paddle_portal.paddle.retry_policy import BACKOFF_INITIAL_SECONDS, MIN_ATTEMPT_SECONDS
from paddle_portal.settings import ENV_NAMES, Settings, get_settings, settings_from_env
from tests.support import SECRET_ID
from tests.template import load_template

REQUIRED = {"PADDLE_API_KEY_SECRET_ID": SECRET_ID}
STANDIN = "LOCAL_PORTAL_STANDIN_URL"  # the local run's portal stand-in: a plain-http loopback origin, never in Lambda


def test_defaults_are_the_contracts():
    s = settings_from_env(REQUIRED)

    assert (s.paddle_environment, s.secret_max_age_seconds, s.customer_session_burst) == ("auto", 300, 0)
    assert (s.api_base_url, s.local_portal_url, s.secrets_extension_port) == (None, None, None)
    assert s.customer_id_claim == "custom:paddle_customer_id"
    assert s.portal_allowed_hosts == ("customer-portal.paddle.com", "sandbox-customer-portal.paddle.com")


def test_the_default_budget_leaves_room_for_a_retry_and_a_forced_re_read():
    budget = Settings(secret_id=SECRET_ID).request_budget_seconds
    timeout = load_template()["Globals"]["Function"]["Timeout"]

    # One hung attempt (a black-holed stale connection) still leaves room for a retry within the budget...
    assert budget >= READ_TIMEOUT_SECONDS + BACKOFF_INITIAL_SECONDS + MIN_ATTEMPT_SECONDS
    # ...and the function answers before Lambda's timeout, also when Paddle's 403 came late and the forced Secrets
    # Manager re-read took as long as it may.
    assert budget + max(LAMBDA_SAFETY_MARGIN_SECONDS, secrets.SECRETS_WORST_CASE_SECONDS) <= timeout


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "expected"),
    [
        pytest.param("PADDLE_ENVIRONMENT", "sandbox", "paddle_environment", "sandbox", id="environment-sandbox"),
        pytest.param("PADDLE_ENVIRONMENT", "production", "paddle_environment", "production", id="environment-prod"),
        pytest.param(
            "PADDLE_API_BASE_URL", "http://127.0.0.1:8080/", "api_base_url", "http://127.0.0.1:8080", id="url"
        ),
        pytest.param("SECRET_MAX_AGE_SECONDS", "0", "secret_max_age_seconds", 0, id="max-age-zero"),
        pytest.param("CUSTOMER_ID_CLAIM", "paddle_customer_id", "customer_id_claim", "paddle_customer_id", id="claim"),
        pytest.param(
            "PORTAL_ALLOWED_HOSTS",
            " Portal.Example.com , customer-portal.paddle.com,",
            "portal_allowed_hosts",
            ("portal.example.com", "customer-portal.paddle.com"),
            id="hosts-trimmed-lowered",
        ),
        pytest.param("PADDLE_REQUEST_BUDGET_SECONDS", "28", "request_budget_seconds", 28.0, id="budget-max"),
        pytest.param(
            "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "2773", "secrets_extension_port", 2773, id="extension-port"
        ),
        pytest.param("CUSTOMER_SESSION_BURST", "2", "customer_session_burst", 2, id="session-burst"),
        pytest.param(STANDIN, "http://127.0.0.1:3003", "local_portal_url", "http://127.0.0.1:3003", id="stand-in"),
        pytest.param(
            STANDIN, "http://localhost:3003/", "local_portal_url", "http://localhost:3003", id="stand-in-name"
        ),
        pytest.param(STANDIN, "http://[::1]:3003", "local_portal_url", "http://[::1]:3003", id="stand-in-ipv6"),
        pytest.param("PADDLE_ENVIRONMENT", "", "paddle_environment", "auto", id="empty-counts-as-unset"),
        pytest.param("PADDLE_API_BASE_URL", "  ", "api_base_url", None, id="blank-counts-as-unset"),
    ],
)
def test_each_variable_is_read(variable, value, attribute, expected):
    assert getattr(settings_from_env({**REQUIRED, variable: value}), attribute) == expected


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("PADDLE_API_KEY_SECRET_ID", "", id="secret-id-missing"),
        pytest.param("PADDLE_ENVIRONMENT", "live", id="environment-live"),
        pytest.param("PADDLE_ENVIRONMENT", "Sandbox", id="environment-wrong-case"),
        pytest.param("PADDLE_API_BASE_URL", "api.paddle.com", id="base-url-no-scheme"),
        pytest.param("PADDLE_API_BASE_URL", "https://api.paddle .com", id="base-url-space"),
        pytest.param("PADDLE_API_BASE_URL", "https://", id="base-url-no-host"),
        pytest.param("SECRET_MAX_AGE_SECONDS", "1.5", id="max-age-fraction"),
        pytest.param("SECRET_MAX_AGE_SECONDS", "-1", id="max-age-negative"),
        pytest.param("SECRET_MAX_AGE_SECONDS", "86401", id="max-age-over-a-day"),
        pytest.param("PORTAL_ALLOWED_HOSTS", ",,", id="hosts-none"),
        pytest.param("PORTAL_ALLOWED_HOSTS", "https://customer-portal.paddle.com", id="hosts-url-not-host"),
        pytest.param("PORTAL_ALLOWED_HOSTS", "customer-portal.paddle.com:443", id="hosts-with-port"),
        pytest.param("PORTAL_ALLOWED_HOSTS", "127.0.0.1", id="hosts-loopback-ip"),
        pytest.param("PORTAL_ALLOWED_HOSTS", "192.168.1.20", id="hosts-private-ip"),
        pytest.param("PORTAL_ALLOWED_HOSTS", "customer-portal.paddle.com,localhost", id="hosts-localhost"),
        pytest.param("PORTAL_ALLOWED_HOSTS", "portal.localhost", id="hosts-localhost-subdomain"),
        pytest.param("PADDLE_REQUEST_BUDGET_SECONDS", "0", id="budget-zero"),
        pytest.param("PADDLE_REQUEST_BUDGET_SECONDS", "29", id="budget-past-api-gateway"),
        pytest.param("PADDLE_REQUEST_BUDGET_SECONDS", "nan", id="budget-nan"),
        pytest.param("CUSTOMER_SESSION_BURST", "-1", id="session-burst-negative"),
    ],
)
def test_bad_value_fails_naming_the_variable(variable, value):
    with pytest.raises(ConfigurationError, match=variable) as raised:
        settings_from_env({**REQUIRED, variable: value})

    assert not any(other in str(raised.value) for other in set(ENV_NAMES.values()) - {variable})


def test_several_bad_values_are_all_named():
    with pytest.raises(ConfigurationError) as raised:
        settings_from_env({"PADDLE_ENVIRONMENT": "live", "SECRET_MAX_AGE_SECONDS": "x"})

    for variable in ("PADDLE_API_KEY_SECRET_ID", "PADDLE_ENVIRONMENT", "SECRET_MAX_AGE_SECONDS"):
        assert variable in str(raised.value)


def test_settings_are_validated_once_per_set_of_values(monkeypatch):
    # Given settings read once
    monkeypatch.setenv("PADDLE_ENVIRONMENT", "sandbox")
    first = get_settings()

    # Then reading again with the same environment reuses them (no second validation)
    assert get_settings() is first

    # When the environment changes, the settings follow it
    monkeypatch.setenv("PADDLE_ENVIRONMENT", "production")
    assert get_settings().paddle_environment == "production"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("https://127.0.0.1:3003", id="https"),  # the stand-in is plain http; https hosts are the list's
        pytest.param("http://127.0.0.1", id="no-port"),
        pytest.param("http://customer-portal.paddle.com:3003", id="public-host"),
        pytest.param("http://10.0.0.7:3003", id="private-ip"),
        pytest.param("http://127.0.0.1.nip.io:3003", id="dns-to-loopback"),
        pytest.param("http://user@127.0.0.1:3003", id="credentials"),
        pytest.param("http://127.0.0.1:3003/portal", id="path"),
        pytest.param("http://127.0.0.1:3003?x=1", id="query"),
        pytest.param("127.0.0.1:3003", id="no-scheme"),
    ],
)
def test_a_stand_in_that_is_not_a_loopback_http_origin_is_refused(value):
    with pytest.raises(ConfigurationError, match=STANDIN):
        settings_from_env({**REQUIRED, STANDIN: value})


@pytest.mark.parametrize("marker", ["AWS_LAMBDA_FUNCTION_NAME", "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT"])
def test_inside_lambda_a_stand_in_is_refused(marker):
    # Given what every Lambda execution environment (and `sam local invoke`) sets
    environ = {**REQUIRED, marker: "paddle-portal", STANDIN: "http://127.0.0.1:3003"}

    # Then the function refuses to start rather than allow plain-http portal links
    with pytest.raises(ConfigurationError, match=f"{STANDIN}: only the local run"):
        settings_from_env(environ)
    # And without the stand-in the same environment is fine
    assert settings_from_env({**REQUIRED, marker: "paddle-portal"}).local_portal_url is None


def test_inside_lambda_get_settings_refuses_it_too(monkeypatch):
    monkeypatch.setenv(STANDIN, "http://127.0.0.1:3003")
    assert get_settings().local_portal_url == "http://127.0.0.1:3003"

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "paddle-portal")  # the cached settings must not survive this

    with pytest.raises(ConfigurationError, match=STANDIN):
        get_settings()
