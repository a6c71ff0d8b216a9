"""The function's secrets: `parse_api_key` takes the bare key or `{"api_key": ...}` and refuses anything else without
repeating the value; `SecretSource` reads through a cached reader and re-reads on demand at most once per interval."""

from __future__ import annotations

import json

import pytest

from paddle_portal import secrets
from paddle_portal.errors import ConfigurationError
from paddle_portal.secrets import SecretSource, parse_api_key
from tests.support import API_KEY, LEGACY_API_KEY, LIVE_API_KEY, ROTATED_API_KEY, SECRET_ID


@pytest.mark.parametrize(
    ("value", "key"),
    [
        pytest.param(API_KEY, API_KEY, id="bare-sandbox-key"),
        pytest.param(LEGACY_API_KEY, LEGACY_API_KEY, id="bare-legacy-key-without-prefix"),
        pytest.param(f"  {API_KEY}\n", API_KEY, id="bare-key-with-whitespace"),
        pytest.param(json.dumps({"api_key": API_KEY}), API_KEY, id="rotation-json"),
        pytest.param(
            json.dumps({"api_key": f" {API_KEY} ", "previous": LIVE_API_KEY}), API_KEY, id="json-extra-fields"
        ),
        pytest.param(f"\n{json.dumps({'api_key': API_KEY}, indent=2)}\n", API_KEY, id="pretty-json"),
        pytest.param(API_KEY.encode(), API_KEY, id="binary-secret"),
    ],
)
def test_accepted_shapes(value, key):
    assert parse_api_key(value) == key


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("   ", id="blank"),
        pytest.param("pdl_short", id="too-short"),
        pytest.param(API_KEY[:30] + " " + API_KEY[30:], id="space-inside"),
        pytest.param(API_KEY + "\r\nX-Injected: 1", id="header-injection"),
        pytest.param(API_KEY + "é", id="non-ascii"),
        pytest.param("k" * 201, id="too-long"),
        pytest.param('{"api_key": "' + API_KEY, id="malformed-json"),
        pytest.param(json.dumps({"key": API_KEY}), id="json-without-api_key"),
        pytest.param(json.dumps({"api_key": ["x"]}), id="json-api_key-list"),
        pytest.param(json.dumps({"api_key": ""}), id="json-api_key-empty"),
        pytest.param(None, id="none"),
        pytest.param({"api_key": API_KEY}, id="dict-not-text"),
        pytest.param(json.dumps(API_KEY), id="json-quoted-string"),
        pytest.param(json.dumps([API_KEY]), id="json-array"),
        pytest.param(secrets.PLACEHOLDER, id="template-placeholder"),
    ],
)
def test_refused_shapes_do_not_leak_the_value(value):
    with pytest.raises(ConfigurationError, match="secret") as raised:
        parse_api_key(value)

    assert "pdl_" not in str(raised.value)
    assert API_KEY[20:40] not in str(raised.value)
    if value == secrets.PLACEHOLDER:
        assert "placeholder, not a key" in str(raised.value)  # the operator is told what is wrong


class Reader:
    """A cached secret reader as the source sees it: returns the current value, records each call."""

    def __init__(self, value: object) -> None:
        self.value = value
        self.calls: list[bool] = []  # force_fetch of each call

    def __call__(self, secret_id: str, max_age: int, force_fetch: bool) -> object:
        assert (secret_id, max_age) == (SECRET_ID, 300)
        self.calls.append(force_fetch)
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


def source(reader: Reader, secret_id: str | None = SECRET_ID) -> SecretSource[str]:
    return SecretSource("the Paddle API key secret", secret_id, 300, parse_api_key, reader, setting="THE_SETTING")


def test_a_forced_re_read_happens_at_most_once_per_interval(monkeypatch):
    # Given a source that read the key, then a rotation
    reader = Reader(API_KEY)
    keys = source(reader)
    assert keys.get() == API_KEY
    reader.value = ROTATED_API_KEY

    # When Paddle rejects the key twice in a row
    first, second = keys.refresh(), keys.refresh()

    # Then one forced read brought the new key, the second was refused; after the interval, forcing works again
    assert (first, second, keys.get()) == (ROTATED_API_KEY, None, ROTATED_API_KEY)
    monkeypatch.setattr(secrets, "FORCED_REFRESH_MIN_INTERVAL_SECONDS", 0.0)
    assert keys.refresh() == ROTATED_API_KEY
    assert reader.calls == [False, True, False, True]


@pytest.mark.parametrize(
    ("secret_id", "failure", "message"),
    [
        pytest.param(None, None, "not configured: set THE_SETTING", id="no-secret-id"),
        pytest.param(SECRET_ID, KeyError("ResourceNotFoundException"), "Could not read the Paddle API key", id="read"),
        pytest.param(SECRET_ID, ConfigurationError("as raised"), "as raised", id="configuration-error-kept"),
    ],
)
def test_a_secret_that_cannot_be_read_is_a_configuration_error(secret_id, failure, message):
    with pytest.raises(ConfigurationError, match=message):
        source(Reader(failure), secret_id).get()
