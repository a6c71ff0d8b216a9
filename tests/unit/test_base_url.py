"""`base_url_for`: `PADDLE_API_BASE_URL` wins, then `PADDLE_ENVIRONMENT`, then the key prefix (legacy: production)."""

from __future__ import annotations

import pytest

from paddle_portal.paddle.client import PRODUCTION_URL, SANDBOX_URL, base_url_for
from tests.support import API_KEY, LEGACY_API_KEY, LIVE_API_KEY

LOCAL = "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("api_key", "environment", "override", "expected"),
    [
        pytest.param(API_KEY, "auto", None, "https://sandbox-api.paddle.com", id="sandbox-key"),
        pytest.param(LIVE_API_KEY, "auto", None, "https://api.paddle.com", id="live-key"),
        pytest.param(LEGACY_API_KEY, "auto", None, PRODUCTION_URL, id="legacy-key-is-production"),
        pytest.param(LIVE_API_KEY, "sandbox", None, SANDBOX_URL, id="environment-sandbox-overrides-live-key"),
        pytest.param(LEGACY_API_KEY, "sandbox", None, SANDBOX_URL, id="environment-sandbox-legacy-key"),
        pytest.param(API_KEY, "production", None, PRODUCTION_URL, id="environment-production-overrides-sandbox-key"),
        pytest.param(API_KEY, "auto", LOCAL, LOCAL, id="override-wins-over-key"),
        pytest.param(LIVE_API_KEY, "sandbox", LOCAL, LOCAL, id="override-wins-over-environment"),
        pytest.param("pdl_live_apikey_pdl_sdbx_", "auto", None, PRODUCTION_URL, id="prefix-only-at-start"),
    ],
)
def test_base_url(api_key, environment, override, expected):
    assert base_url_for(api_key, environment, override) == expected
