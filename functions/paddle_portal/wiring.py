"""What is built once per execution environment, and its one reset.

The use cases' `Dependencies` (portal.py): the settings, the Paddle client with its connection pool and retry budget,
the two secret sources, the email → customer cache and each customer's session budget. The adapters ask
`dependencies()` for them on every invocation and pass them to the use cases; `reset()` forgets all of it (SnapStart's
hooks around a snapshot, and the tests between cases).
"""

from __future__ import annotations

import functools
import sys

import urllib3

from paddle_portal.customers import CustomerBudget, CustomerCache
from paddle_portal.paddle.client import PaddleClient, new_pool
from paddle_portal.portal import Dependencies
from paddle_portal.secrets import SecretSource, parse_api_key, secret_reader
from paddle_portal.settings import Settings, clear_settings_cache, get_settings
from paddle_portal.signed_links import SigningKeys


@functools.lru_cache(maxsize=1)
def pool() -> urllib3.PoolManager:
    return new_pool()  # one connection pool per execution environment: warm calls reuse the TLS connection


@functools.lru_cache(maxsize=1)
def dependencies_for(settings: Settings) -> Dependencies:
    """Built once per execution environment (per configuration: settings are frozen and hashable)."""
    reader = secret_reader(settings.secrets_extension_port)  # one cache for both secrets
    max_age = settings.secret_max_age_seconds
    return Dependencies(
        settings=settings,
        client=PaddleClient(pool(), environment=settings.paddle_environment, base_url=settings.api_base_url),
        api_key=SecretSource(
            "the Paddle API key secret",
            settings.secret_id,
            max_age,
            parse_api_key,
            reader,
            setting="PADDLE_API_KEY_SECRET_ID",
        ),
        signing_keys=SecretSource(
            "the link signing secret",
            settings.link_signing_secret_id,
            max_age,
            SigningKeys.parse,
            reader,
            setting="PORTAL_LINK_SIGNING_SECRET_ID",
        ),
        customers=CustomerCache(settings.customer_lookup_max_age_seconds),
        sessions_per_customer=CustomerBudget(burst=settings.customer_session_burst),
    )


def dependencies() -> Dependencies:
    """The dependencies for the current settings (read from the environment, validated once per set of values)."""
    return dependencies_for(get_settings())


def reset() -> None:
    """Forget everything this execution environment built: settings, the dependencies (Paddle client, both secret
    sources with their values, the customer cache), the connection pool, and Powertools' secret providers."""
    dependencies_for.cache_clear()
    pool.cache_clear()
    clear_settings_cache()
    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters")
    if parameters is not None:  # not imported: nothing cached there
        parameters.clear_caches()  # Powertools' providers: cached secret values and the boto3 client's connections
