"""The function's two secrets (the Paddle API key, the link signing keys), read from Secrets Manager through the
Parameters and Secrets extension when the template adds it, else Powertools Parameters, with an in-memory cache."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import urllib3

from paddle_portal.errors import ConfigurationError
from paddle_portal.observability import logger, tracer

# A forced re-read (after Paddle rejected the key) happens at most this often per execution environment, so a
# revoked key costs one Secrets Manager call per interval, not one per request.
FORCED_REFRESH_MIN_INTERVAL_SECONDS = 30.0
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{20,200}$")  # printable ASCII, no spaces: it goes into a header

# Secrets Manager answers in tens of milliseconds. botocore's defaults (60 s connect, 60 s read, legacy retries)
# would let one slow read outlive the request's budget and the function's timeout. With these a read gives up after
# at most SECRETS_WORST_CASE_SECONDS: 2 attempts x (1 s + 1 s) plus botocore's standard backoff (at most 1 s).
# The cold read happens inside the request's budget; a forced re-read after Paddle's 403 may add this much to it,
# which the template's function timeout leaves room for (budget 10 s + 5 s = 15 s).
SECRETS_CONNECT_TIMEOUT_SECONDS = 1
SECRETS_READ_TIMEOUT_SECONDS = 1
SECRETS_MAX_ATTEMPTS = 2
SECRETS_WORST_CASE_SECONDS = SECRETS_MAX_ATTEMPTS * (SECRETS_CONNECT_TIMEOUT_SECONDS + SECRETS_READ_TIMEOUT_SECONDS) + 1

# The Parameters and Secrets extension answers from localhost; a slower answer means it is not there or stuck.
EXTENSION_TIMEOUT_SECONDS = 1.0

SecretReader = Callable[[str, int, bool], object]
T = TypeVar("T")

# What template.yaml writes into a secret it creates, until the operator puts the real key there.
PLACEHOLDER = "REPLACE_WITH_PADDLE_API_KEY"


class PowertoolsSecretReader:
    """Powertools Parameters' `SecretsProvider` with bounded timeouts, installed as Powertools' default secrets
    provider: its in-memory cache lives for the execution environment, and `parameters.clear_caches()` clears it
    like any Powertools cache (tests rely on that)."""

    def __call__(self, secret_id: str, max_age: int, force_fetch: bool) -> object:
        from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

        provider: Any = DEFAULT_PROVIDERS.get("secrets")
        if not getattr(provider, _BOUNDED, False):
            provider = DEFAULT_PROVIDERS["secrets"] = _bounded_provider()
        return provider.get(secret_id, max_age=max_age, force_fetch=force_fetch)


_BOUNDED = "_paddle_portal_bounded"


def _bounded_provider() -> Any:
    # deferred: boto3 and botocore are imported only when the first request needs a secret
    import sys

    import boto3  # type: ignore[import-untyped,unused-ignore]  # typed only where boto3-stubs is installed (sam group)
    import botocore
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from botocore.config import Config

    # Once per execution environment: which SDK this function runs, and from where (the layer's copy must win over
    # the runtime's own; tests/e2e reads this line on a deployed stack).
    logger.info(
        "AWS SDK loaded",
        boto3_version=boto3.__version__,
        botocore_version=botocore.__version__,
        botocore_path=botocore.__file__,
        sys_path=sys.path,
    )
    tracer.patch(["botocore"])  # the Secrets Manager call appears in X-Ray (a no-op when tracing is off)
    provider = SecretsProvider(
        boto_config=Config(
            connect_timeout=SECRETS_CONNECT_TIMEOUT_SECONDS,
            read_timeout=SECRETS_READ_TIMEOUT_SECONDS,
            retries={"mode": "standard", "total_max_attempts": SECRETS_MAX_ATTEMPTS},
        )
    )
    setattr(provider, _BOUNDED, True)
    return provider


class ExtensionSecretReader:
    """The AWS Parameters and Secrets Lambda Extension: one loopback HTTP call instead of importing boto3 and
    building a client (bench/: a third of the cold start). Keeps its own copy for `max_age`, so warm invocations
    make no call at all. Goes through `fallback` (boto3) when the extension does not answer with the secret (the
    fallback then raises the real cause), and for forced re-reads, which the extension would answer from its own
    cache with the key Paddle just rejected."""

    def __init__(self, port: int, fallback: SecretReader, clock: Callable[[], float] = time.monotonic) -> None:
        self._pool = urllib3.HTTPConnectionPool(
            "localhost", port, maxsize=1, retries=False, timeout=urllib3.Timeout(total=EXTENSION_TIMEOUT_SECONDS)
        )
        self._fallback = fallback
        self._clock = clock
        self._cached: dict[str, tuple[float, object]] = {}

    def __call__(self, secret_id: str, max_age: int, force_fetch: bool) -> object:
        now = self._clock()
        hit = self._cached.get(secret_id)
        if hit is not None and not force_fetch and now < hit[0]:
            return hit[1]
        value = None if force_fetch else self._from_extension(secret_id)
        if value is None:
            if not force_fetch:
                logger.warning("The Parameters and Secrets extension did not answer with the secret; using boto3")
            value = self._fallback(secret_id, max_age, force_fetch)
        self._cached[secret_id] = (now + max_age, value)
        return value

    def _from_extension(self, secret_id: str) -> object | None:
        try:
            response = self._pool.request(
                "GET",
                "/secretsmanager/get",
                fields={"secretId": secret_id},
                headers={"X-Aws-Parameters-Secrets-Token": os.environ.get("AWS_SESSION_TOKEN", "")},
            )
            document = json.loads(response.data) if response.status == 200 else None
        except (urllib3.exceptions.HTTPError, OSError, ValueError):
            document = None
        if not isinstance(document, dict):
            return None
        text, binary = document.get("SecretString"), document.get("SecretBinary")
        if isinstance(text, str):
            return text
        return base64.b64decode(binary) if isinstance(binary, str) else None


def secret_reader(extension_port: int | None) -> SecretReader:
    """Through the Parameters and Secrets extension when the template configured it, else Powertools (boto3)."""
    fallback: SecretReader = PowertoolsSecretReader()
    return fallback if extension_port is None else ExtensionSecretReader(extension_port, fallback)


def parse_api_key(value: object) -> str:
    """The secret is the bare key or `{"api_key": "..."}` (AWS managed rotation's shape)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        raise ConfigurationError("The Paddle API key secret is not a string")
    text = value.strip()
    if not text:
        raise ConfigurationError("The Paddle API key secret is empty")
    if text == PLACEHOLDER:
        raise ConfigurationError("The Paddle API key secret still holds the stack's placeholder, not a key")
    if text.startswith(("{", "[", '"')):  # JSON: only an object with "api_key" is a key (a quoted string is not)
        try:
            document = json.loads(text)
        except ValueError:
            raise ConfigurationError("The Paddle API key secret looks like JSON but does not parse") from None
        key = document.get("api_key") if isinstance(document, dict) else None
        if not isinstance(key, str):
            raise ConfigurationError('The Paddle API key secret is JSON without a string "api_key"')
        text = key.strip()
    if not _KEY_PATTERN.fullmatch(text):
        raise ConfigurationError("The Paddle API key secret does not hold a well-formed API key")
    return text


class SecretSource(Generic[T]):
    """One secret of the function, parsed: the Paddle API key, or the link signing keys. Both come through the same
    cached reader; the parsed value is kept per raw value, so a warm invocation neither reads nor parses."""

    def __init__(
        self,
        what: str,
        secret_id: str | None,
        max_age_seconds: int,
        parse: Callable[[object], T],
        reader: SecretReader,
        *,
        setting: str,
    ) -> None:
        self._what = what  # "the Paddle API key secret": for messages, which never hold the value
        self._secret_id = secret_id
        self._max_age = max_age_seconds
        self._parse = parse
        self._reader = reader
        self._setting = setting
        self._parsed: tuple[object, T] | None = None
        self._last_forced: float | None = None

    def get(self) -> T:
        return self._read(force=False)

    def refresh(self) -> T | None:
        """Re-read bypassing the cache (the cache then holds the new value); None if a forced re-read was done less
        than FORCED_REFRESH_MIN_INTERVAL_SECONDS ago (the caller keeps its error): a bad key costs one Secrets
        Manager call per interval, not one per request."""
        now = time.monotonic()
        if self._last_forced is not None and now - self._last_forced < FORCED_REFRESH_MIN_INTERVAL_SECONDS:
            return None
        self._last_forced = now
        return self._read(force=True)

    def _read(self, *, force: bool) -> T:
        if not self._secret_id:
            raise ConfigurationError(f"{self._what.capitalize()} is not configured: set {self._setting}")
        try:
            value = self._reader(self._secret_id, self._max_age, force)
        except ConfigurationError:
            raise
        except Exception as exc:
            # Powertools wraps botocore's error; its message names the secret id and AWS's reason, never the value.
            raise ConfigurationError(f"Could not read {self._what} ({type(exc).__name__}: {exc})") from None
        if self._parsed is None or self._parsed[0] != value:
            self._parsed = (value, self._parse(value))
        return self._parsed[1]
