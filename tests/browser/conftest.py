"""The browser tier: examples/web/ in the system's Chromium against the real local run (`local.server.serve`), as
docs/testing.md#browser-tier describes it: skipped in one line without Chromium or Playwright, failed under CI."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from local.portal_standin import PortalStandIn
from local.server import GatewayServer, serve
from paddle_portal.app import lambda_handler
from tests.support import cannot_run_tier, skip_tier_in_one_line

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parents[1] / "test-results" / "browser"
# Debian's `apt-get install -y chromium` path first; GitHub's Ubuntu runners ship Google Chrome instead.
CANDIDATES = ("chromium", "/usr/bin/chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
ENABLE = "install Chromium (`apt-get install -y chromium`) or set CHROMIUM_PATH"


def find_chromium() -> str | None:
    """CHROMIUM_PATH if set, else the first Chromium (or Chrome) on PATH or at Debian's path."""
    if override := os.environ.get("CHROMIUM_PATH", "").strip():
        return override if os.access(override, os.X_OK) else None
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def tier_problem() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (make deps-dev)"
    if find_chromium() is None:
        override = os.environ.get("CHROMIUM_PATH", "").strip()
        return f"no executable at CHROMIUM_PATH={override}" if override else "no Chromium found"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = [item for item in items if item.path.is_relative_to(HERE)]
    skip_tier_in_one_line(config, items, here, "browser tier", tier_problem(), ENABLE)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per module (the Playwright driver never outlives this tier's modules); a fresh context per test."""
    if (problem := tier_problem()) is not None:
        cannot_run_tier("browser tier", problem, ENABLE)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=find_chromium(),
            args=[
                "--no-sandbox",  # containers and CI runners have no user namespaces for Chromium's sandbox
                "--disable-dev-shm-usage",
                # Offline: this machine's names only; a journey that strays towards Paddle's real hosts fails at once.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def customer_lookup() -> str:
    """CUSTOMER_LOOKUP of the function for this test (parametrize it to change)."""
    return "claim"


@pytest.fixture
def calls() -> list[dict[str, Any]]:
    """Every event that reached the function."""
    return []


@pytest.fixture
def api(
    customer_lookup: str, calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, restore_environ: None
) -> Iterator[GatewayServer]:
    """`make run` in-process: gateway, Cognito, Paddle fake, moto and the demo page (CORS allows its origin only)."""
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)  # serve() allows the demo page's origin itself
    monkeypatch.setenv("CUSTOMER_LOOKUP", customer_lookup)
    server = serve(port=0, handler=lambda event, context: calls.append(event) or lambda_handler(event, context))
    yield server
    server.close()


@pytest.fixture
def portal(api: GatewayServer) -> PortalStandIn:
    """The local run's stand-in of Paddle's portal, where its Paddle fake's links point."""
    assert api.portal_standin is not None
    return api.portal_standin


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh profile (no cookies, no storage); each page left open is screenshot afterwards."""
    context: BrowserContext = browser.new_context()
    context.set_default_timeout(10_000)  # a step that has not happened in 10 s will not: fail with the call log
    yield context.new_page()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{request.node.path.stem}__{request.node.name}").strip("-")
    for number, open_page in enumerate(context.pages):
        suffix = f"-{number + 1}" if len(context.pages) > 1 else ""
        try:
            open_page.screenshot(path=SCREENSHOTS / f"{name}{suffix}.png", full_page=True, timeout=5_000)
        except Exception as exc:  # a failed screenshot must not hide the test's own result
            print(f"no screenshot of {name}{suffix}: {type(exc).__name__}")
    context.close()
