"""pytest plugin: fail every test whose logs or output carry a Paddle API key, a portal token or link, or a signed link.

Enabled for the whole suite by tests/conftest.py. It reads, per test phase: every record of the function's Powertools
Logger (through a filter on it, formatted as CloudWatch would get it); every byte that logger's handlers write (a
handler keeps the stream it was created with, often one no capture reads, and child loggers' records reach it without
passing the parent's filter); every record reaching the root logger; the output and log sections pytest captured.
A test that writes such a value on purpose is marked `@pytest.mark.allow_secrets_in_output("why")`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import API_KEY, LEGACY_API_KEY, LIVE_API_KEY, PORTAL_TOKEN, ROTATED_API_KEY

FAKE_API_KEYS = (API_KEY, ROTATED_API_KEY, LIVE_API_KEY, LEGACY_API_KEY)

# What must never leave the function in a log line, a trace or an exception message.
FORBIDDEN: dict[str, re.Pattern[str]] = {
    "a Paddle API key": re.compile("|".join(re.escape(key) for key in FAKE_API_KEYS) + r"|pdl_(?:live|sdbx)_apikey_"),
    "a portal token": re.compile(re.escape(PORTAL_TOKEN) + r"|pga_"),
    "a portal URL": re.compile(r"customer-portal\.paddle\.com/cpl_"),
    # A signed portal link (this project's own bearer link, valid for up to 30 days): its signature parameter.
    "a signed portal link": re.compile(r"[?&]sig=[A-Za-z0-9_-]{43}"),
}

MARKER = "allow_secrets_in_output"


def find_leaks(text: str) -> list[str]:
    """The names of the forbidden things `text` contains (empty when it is clean)."""
    return [name for name, pattern in FORBIDDEN.items() if pattern.search(text)]


def mask(text: str) -> str:
    """`text` with every forbidden value replaced, so a failure report does not repeat the leak."""
    for name, pattern in FORBIDDEN.items():
        text = pattern.sub(f"<{name.removeprefix('a ')} removed>", text)
    return text


def _record_text(record: logging.LogRecord, formatter: logging.Formatter | None) -> str:
    parts = [str(record.msg), repr(record.args), repr({k: v for k, v in vars(record).items() if k != "exc_info"})]
    with contextlib.suppress(Exception):  # a record whose args do not fit its message still has msg and args
        parts.append(record.getMessage())
    if record.exc_info:
        parts.append("".join(traceback.format_exception(*record.exc_info)))
    if formatter is not None:
        with contextlib.suppress(Exception):  # the raw parts above are still checked
            parts.append(formatter.format(record))
    return "\n".join(parts)


class _TeeStream:
    """Stands in for a log handler's stream: writes go on to the stream as before, and are read for leaks."""

    def __init__(self, stream: Any, guard: RedactionGuard, name: str) -> None:
        self.wrapped, self._guard, self._name = stream, guard, name

    def write(self, text: str) -> int:
        self._guard.saw(f"written by the handler of {self._name}", text)
        return int(self.wrapped.write(text) or 0)

    def flush(self) -> None:
        self.wrapped.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


class _RootHandler(logging.Handler):
    def __init__(self, guard: RedactionGuard) -> None:
        super().__init__(level=logging.NOTSET)
        self._guard = guard

    def emit(self, record: logging.LogRecord) -> None:
        self._guard.saw(f"log record of {record.name}", _record_text(record, None))


class RedactionGuard:
    """A handler on the root logger and a filter on the function's logger; wraps that logger's handler streams."""

    def __init__(self) -> None:
        self.leaks: list[str] = []  # since the current test phase began
        self._service_logger = logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME") or "paddle-portal")
        self._root_handler = _RootHandler(self)

    def saw(self, where: str, text: str) -> None:
        if find_leaks(text):
            self.leaks.append(f"{where}: {text}")

    def _filter(self, record: logging.LogRecord) -> bool:  # the function's logger's records, before any handler
        formatter = getattr(getattr(self._service_logger, "powertools_handler", None), "formatter", None)
        self.saw(f"log record of {record.name}", _record_text(record, formatter))
        return True

    def install(self) -> None:
        self._service_logger.addFilter(self._filter)
        logging.getLogger().addHandler(self._root_handler)

    def uninstall(self) -> None:
        self._service_logger.removeFilter(self._filter)
        logging.getLogger().removeHandler(self._root_handler)
        for handler in self._service_logger.handlers:
            if isinstance(handler, logging.StreamHandler) and isinstance(handler.stream, _TeeStream):
                handler.stream = handler.stream.wrapped

    def _watch_handler_streams(self) -> None:
        """Wrap the stream of every handler the function's logger has now: before each test phase, since that
        Logger is built on first import, which may be inside a test (its records are still seen by the filter)."""
        for handler in self._service_logger.handlers:
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler.stream, _TeeStream):
                handler.stream = _TeeStream(handler.stream, self, self._service_logger.name)

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        self._watch_handler_streams()
        yield

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        self._watch_handler_streams()
        yield

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Iterator[None]:
        self._watch_handler_streams()
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        leaks, self.leaks = self.leaks, []
        leaks += [f"{title}: {text}" for title, text in report.sections if title.endswith(f" {call.when}")]
        leaks = [leak for leak in leaks if find_leaks(leak)]
        if not leaks or item.get_closest_marker(MARKER) is not None:
            return
        found = sorted({name for text in leaks for name in find_leaks(text)})
        message = (
            f"Redaction guard (tests/redaction.py): {', '.join(found)} appeared in the {call.when} phase's output.\n"
            + "\n".join(f"- {mask(text)[:2000]}" for text in leaks)
        )
        if report.passed:
            report.outcome = "failed"
            report.longrepr = message
        else:
            report.sections.append(("Redaction guard", message))


_GUARD = pytest.StashKey[RedactionGuard]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(reason): this test writes an API key, portal token or portal URL on purpose"
    )
    guard = config.stash[_GUARD] = RedactionGuard()
    guard.install()
    config.pluginmanager.register(guard, "redaction-guard")


def pytest_unconfigure(config: pytest.Config) -> None:
    guard = config.stash.get(_GUARD, None)
    if guard is not None:
        guard.uninstall()
        config.pluginmanager.unregister(guard)
