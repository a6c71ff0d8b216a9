"""The Paddle API key, read from Secrets Manager through Powertools Parameters with an in-memory cache."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

from paddle_portal.errors import ConfigurationError

# A forced re-read (after Paddle rejected the key) happens at most this often per execution environment, so a
# revoked key costs one Secrets Manager call per interval, not one per request.
FORCED_REFRESH_MIN_INTERVAL_SECONDS = 30.0
_KEY_PATTERN = re.compile(
    r"^[\x21-\x7e]{20,200}$"
)  # printable ASCII, no spaces: it goes into a header

SecretReader = Callable[[str, int, bool], object]


def read_secret_with_powertools(
    secret_id: str, max_age: int, force_fetch: bool
) -> object:
    from aws_lambda_powertools.utilities import parameters  # deferred: pulls in boto3

    return parameters.get_secret(secret_id, max_age=max_age, force_fetch=force_fetch)


def parse_api_key(value: object) -> str:
    """The secret is the bare key or `{"api_key": "..."}` (AWS managed rotation's shape)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        raise ConfigurationError("The Paddle API key secret is not a string")
    text = value.strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            raise ConfigurationError(
                "The Paddle API key secret looks like JSON but does not parse"
            ) from None
        key = document.get("api_key") if isinstance(document, dict) else None
        if not isinstance(key, str):
            raise ConfigurationError(
                'The Paddle API key secret is JSON without a string "api_key"'
            )
        text = key.strip()
    if not _KEY_PATTERN.fullmatch(text):
        raise ConfigurationError(
            "The Paddle API key secret does not hold a well-formed API key"
        )
    return text


class ApiKeySource:
    def __init__(
        self,
        secret_id: str,
        max_age_seconds: int,
        reader: SecretReader = read_secret_with_powertools,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secret_id = secret_id
        self._max_age = max_age_seconds
        self._reader = reader
        self._clock = clock
        self._last_forced: float | None = None

    def get(self) -> str:
        return self._read(force=False)

    def refresh(self) -> str | None:
        """Re-read bypassing the cache; None if that was done too recently (the caller keeps its error)."""
        now = self._clock()
        if (
            self._last_forced is not None
            and now - self._last_forced < FORCED_REFRESH_MIN_INTERVAL_SECONDS
        ):
            return None
        self._last_forced = now
        return self._read(force=True)

    def _read(self, *, force: bool) -> str:
        try:
            value = self._reader(self._secret_id, self._max_age, force)
        except ConfigurationError:
            raise
        except Exception as exc:
            # Powertools wraps botocore's error; its message names the secret id and AWS's reason, never the value.
            raise ConfigurationError(
                f"Could not read the Paddle API key secret ({type(exc).__name__}: {exc})"
            ) from None
        return parse_api_key(value)
