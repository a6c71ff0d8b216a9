"""The function's settings: one typed model, read from the environment once per execution environment."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from paddle_portal.errors import ConfigurationError

DEFAULT_PORTAL_HOSTS = (
    "customer-portal.paddle.com",
    "sandbox-customer-portal.paddle.com",
)

# A DNS host name (lower case): a URL, port or path here would silently refuse every portal link.
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)

# The only hosts a plain-http PORTAL_LINK_BASE_URL may name: the local server (`make run`) on this machine.
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# A portal host must be a public DNS name: never an IP address literal or a loopback name.
_NOT_A_PORTAL_HOST = re.compile(r"^(?:[\d.]+|(?:.*\.)?localhost)$")

# Read only by the local run (`make run`), never set by template.yaml: the origin of the local stand-in of Paddle's
# portal (http on loopback, with a port), whose links are allowed besides the https portal hosts. Refused inside
# Lambda (any of `_LAMBDA_MARKERS` set), so a deployed function can never be pointed at a plain-http portal.
LOCAL_ONLY_ENV_NAMES = {"local_portal_url": "LOCAL_PORTAL_STANDIN_URL"}
_LAMBDA_MARKERS = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT")

# Environment variable name for each field: error messages name the variable, not the attribute.
ENV_NAMES = {
    "secret_id": "PADDLE_API_KEY_SECRET_ID",
    "paddle_environment": "PADDLE_ENVIRONMENT",
    "api_base_url": "PADDLE_API_BASE_URL",
    "secret_max_age_seconds": "SECRET_MAX_AGE_SECONDS",
    "customer_id_claim": "CUSTOMER_ID_CLAIM",
    "portal_allowed_hosts": "PORTAL_ALLOWED_HOSTS",
    "request_budget_seconds": "PADDLE_REQUEST_BUDGET_SECONDS",
    "secrets_extension_port": "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT",  # pragma: allowlist secret - a variable name
    "link_signing_secret_id": "PORTAL_LINK_SIGNING_SECRET_ID",
    "link_base_url": "PORTAL_LINK_BASE_URL",
    "customer_lookup": "CUSTOMER_LOOKUP",
    "customer_lookup_max_age_seconds": "CUSTOMER_LOOKUP_MAX_AGE_SECONDS",
    "customer_session_burst": "CUSTOMER_SESSION_BURST",
}


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    secret_id: Annotated[str, Field(min_length=1)]
    paddle_environment: Literal["auto", "sandbox", "production"] = "auto"
    api_base_url: str | None = None
    secret_max_age_seconds: Annotated[int, Field(ge=0, le=86_400)] = 300
    customer_id_claim: Annotated[str, Field(min_length=1)] = "custom:paddle_customer_id"
    portal_allowed_hosts: tuple[str, ...] = DEFAULT_PORTAL_HOSTS
    # API Gateway gives up after 29 s; the template's function timeout (15 s) bounds this further.
    request_budget_seconds: Annotated[float, Field(gt=0, le=28)] = 10.0
    # Set by the template when it adds the AWS Parameters and Secrets Lambda Extension layer (2773 is its default):
    # the secret is then read from the extension's local cache, without boto3. Unset: Powertools Parameters (boto3).
    secrets_extension_port: Annotated[int, Field(ge=1, le=65_535)] | None = None
    # Signed portal links (optional feature): the secret with the HMAC keys, and the public URL links point at.
    link_signing_secret_id: str | None = None
    link_base_url: str | None = None
    # How JWT routes know the customer: the CUSTOMER_ID_CLAIM claim, or the token's verified email looked up in
    # Paddle (cached per execution environment this long; 0 = no cache).
    customer_lookup: Literal["claim", "verified_email"] = "claim"
    customer_lookup_max_age_seconds: Annotated[int, Field(ge=0, le=86_400)] = 300
    # Portal sessions one customer may cause at once per execution environment (customers.py); 0 = no bound.
    # The template sets it; unset, nothing is bounded (tests and direct use of the package).
    customer_session_burst: Annotated[int, Field(ge=0, le=1000)] = 0
    # The local run's portal stand-in (LOCAL_ONLY_ENV_NAMES): "http://127.0.0.1:<port>", or None (deployed: always).
    local_portal_url: str | None = None

    @field_validator("local_portal_url")
    @classmethod
    def _loopback_origin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        try:
            port = parts.port
        except ValueError:
            port = None
        if (
            parts.scheme != "http"
            or parts.hostname not in _LOOPBACK_HOSTS
            or port is None
            or parts.username is not None
            or parts.password is not None
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise ValueError("must be the local portal stand-in's origin, http://127.0.0.1:<port> (make run only)")
        return value.rstrip("/")

    @field_validator("link_base_url")
    @classmethod
    def _https_base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)  # its own ValueError (a malformed IPv6 host or port) is reported the same way
        _ = parts.port
        # http only for this machine (the local server of `make run`); anywhere else a link must not travel in clear.
        scheme_ok = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS)
        if (
            not scheme_ok
            or not parts.hostname
            or parts.username is not None
            or parts.password is not None
            or parts.query
            or parts.fragment
            or not value.isprintable()
            or any(c.isspace() for c in value)
        ):
            raise ValueError("must be the API's https URL, such as https://billing.example.com or its ApiUrl output")
        return value.rstrip("/")

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)  # its own ValueError (a malformed IPv6 host) is reported the same way
        if parts.scheme not in ("https", "http") or not parts.hostname or any(c.isspace() for c in value):
            raise ValueError("must be an http(s) URL such as https://sandbox-api.paddle.com")
        return value.rstrip("/")

    @field_validator("portal_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(host.strip().lower() for host in value.split(",") if host.strip())
        if not value:
            raise ValueError("must name at least one host")
        return value

    @field_validator("portal_allowed_hosts")
    @classmethod
    def _host_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not all(_HOST_NAME.fullmatch(host) for host in value):
            raise ValueError("must be host names such as customer-portal.paddle.com (no scheme, port or path)")
        if any(_NOT_A_PORTAL_HOST.fullmatch(host) for host in value):
            raise ValueError(
                "must be public host names such as customer-portal.paddle.com (no IP address, no localhost)"
            )
        return value


def settings_from_env(environ: dict[str, str] | os._Environ[str]) -> Settings:
    """Build settings from environment variables; empty variables count as unset."""
    names = {**ENV_NAMES, **LOCAL_ONLY_ENV_NAMES}
    raw = {field: environ[name] for field, name in names.items() if environ.get(name, "").strip()}
    in_lambda = [marker for marker in _LAMBDA_MARKERS if environ.get(marker, "").strip()]
    if in_lambda and "local_portal_url" in raw:
        name = LOCAL_ONLY_ENV_NAMES["local_portal_url"]
        raise ConfigurationError(f"Invalid settings: {name}: only the local run may set it, not a Lambda function")
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{names.get(str(err['loc'][0]), str(err['loc'][0])) if err['loc'] else 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"Invalid settings: {problems}") from None


_READ = (*ENV_NAMES.values(), *LOCAL_ONLY_ENV_NAMES.values(), *_LAMBDA_MARKERS)


def get_settings() -> Settings:
    """Settings for the current environment variables, validated once per distinct set of values (in Lambda: once
    per execution environment; a process that changes its environment, like a test run, gets matching settings)."""
    return _settings_for(tuple(os.environ.get(name, "") for name in _READ))


@lru_cache(maxsize=1)
def _settings_for(values: tuple[str, ...]) -> Settings:
    return settings_from_env(dict(zip(_READ, values, strict=True)))


def clear_settings_cache() -> None:
    _settings_for.cache_clear()
