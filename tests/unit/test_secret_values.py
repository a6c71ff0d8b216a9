"""`secrets.parse_api_key`: the secret holds the bare key or `{"api_key": ...}`; anything else is a setup error
whose message never contains the value."""

from __future__ import annotations

import json

import pytest

from paddle_portal.errors import ConfigurationError
from paddle_portal.secrets import parse_api_key
from tests.support import API_KEY, LEGACY_API_KEY, LIVE_API_KEY


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(API_KEY, API_KEY, id="bare-sandbox-key"),
        pytest.param(LIVE_API_KEY, LIVE_API_KEY, id="bare-live-key"),
        pytest.param(LEGACY_API_KEY, LEGACY_API_KEY, id="bare-legacy-key-without-prefix"),
        pytest.param(f"  {API_KEY}\n", API_KEY, id="bare-key-with-whitespace"),
        pytest.param(json.dumps({"api_key": API_KEY}), API_KEY, id="rotation-json"),
        pytest.param(json.dumps({"api_key": API_KEY, "previous": LIVE_API_KEY}), API_KEY, id="json-extra-fields"),
        pytest.param(json.dumps({"api_key": f" {API_KEY} "}), API_KEY, id="json-key-with-whitespace"),
        pytest.param(f"\n{json.dumps({'api_key': API_KEY}, indent=2)}\n", API_KEY, id="pretty-json"),
        pytest.param(API_KEY.encode(), API_KEY, id="binary-secret"),
    ],
)
def test_accepted_shapes(value: object, expected: str) -> None:
    assert parse_api_key(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("pdl_short", id="too-short"),
        pytest.param(API_KEY[:30] + " " + API_KEY[30:], id="space-inside"),
        pytest.param(API_KEY + "\r\nX-Injected: 1", id="header-injection"),
        pytest.param(API_KEY + "é", id="non-ascii"),
        pytest.param("k" * 201, id="too-long"),
        pytest.param('{"api_key": "' + API_KEY, id="malformed-json"),
        pytest.param(json.dumps({"key": API_KEY}), id="json-without-api_key"),
        pytest.param(json.dumps({"api_key": None}), id="json-api_key-null"),
        pytest.param(json.dumps({"api_key": ["x"]}), id="json-api_key-list"),
        pytest.param(json.dumps({"api_key": ""}), id="json-api_key-empty"),
        pytest.param(None, id="none"),
        pytest.param({"api_key": API_KEY}, id="dict-not-text"),
        pytest.param(json.dumps(API_KEY), id="json-quoted-string"),
        pytest.param(json.dumps([API_KEY]), id="json-array"),
        pytest.param("REPLACE_WITH_PADDLE_API_KEY", id="template-placeholder"),
    ],
)
def test_refused_shapes_do_not_leak_the_value(value: object) -> None:
    with pytest.raises(ConfigurationError) as raised:
        parse_api_key(value)

    message = str(raised.value)
    assert "secret" in message
    assert API_KEY not in message
    assert API_KEY[:20] not in message
    assert "pdl_" not in message


def test_placeholder_message_says_what_to_do() -> None:
    with pytest.raises(ConfigurationError, match="placeholder"):
        parse_api_key("REPLACE_WITH_PADDLE_API_KEY")
