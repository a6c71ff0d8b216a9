"""The browser tier: examples/web/ in a real Chromium against the real local run (`local.server.serve`, as `make run`
starts it), every journey ending on the run's own stand-in of Paddle's portal (`local.portal_standin`).

Chromium is the system's (Debian `chromium`; Playwright's own browser downloads are never used). Without it, or
without Playwright, the whole tier is skipped with one line saying how to enable it; under CI (the `CI` variable
set, as GitHub Actions and .ci/run set it) that is a failure instead: CI must run this tier.

A screenshot of every page a test leaves open is saved under test-results/browser/ (git ignores it).
"""

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
from tests.support import in_ci, skip_tier_in_one_line

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCREENSHOTS = REPO / "test-results" / "browser"
# Where Debian's `apt-get install -y chromium` puts it; GitHub's Ubuntu runners ship Google Chrome instead.
CANDIDATES = ("chromium", "/usr/bin/chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
ENABLE = "install Chromium (`apt-get install -y chromium`) or set CHROMIUM_PATH"
TIMEOUT_MS = 10_000  # a step that has not happened in 10 s will not happen: fail with Playwright's call log


def find_chromium() -> str | None:
    """CHROMIUM_PATH if set, else the first Chromium (or Chrome) on PATH or at Debian's path."""
    override = os.environ.get("CHROMIUM_PATH", "").strip()
    if override:
        return override if os.access(override, os.X_OK) else None
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def tier_problem() -> str | None:
    """Why this tier cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (make deps-dev)"
    if find_chromium() is None:
        override = os.environ.get("CHROMIUM_PATH", "").strip()
        return f"no executable at CHROMIUM_PATH={override}" if override else "no Chromium found"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium or Playwright (and not under CI), the tier is one skipped test with one line saying how to
    enable it; the others are deselected rather than each repeating it."""
    here = [item for item in items if item.path.is_relative_to(HERE)]
    skip_tier_in_one_line(config, items, here, "browser tier", tier_problem(), ENABLE)


@pytest.fixture(scope="session", autouse=True)
def chromium() -> str:
    """The browser's path. Under CI, a missing Chromium or Playwright fails every test of the tier."""
    problem = tier_problem()
    if problem is not None:
        if in_ci():
            pytest.fail(f"browser tier cannot run under CI: {problem}; {ENABLE}", pytrace=False)
        pytest.skip(f"browser tier: {problem}; to run it, {ENABLE}")  # not reached: collection skipped the tier
    path = find_chromium()
    assert path is not None
    return path


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    """One Chromium per module (launch ~0.3 s); each test gets a fresh context. Module scope, not session: the
    Playwright driver then never outlives this tier's modules."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
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
    customer_lookup: str,
    calls: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    restore_environ: None,
) -> Iterator[GatewayServer]:
    """`make run` in-process: gateway, Cognito, Paddle fake, moto and the demo page (CORS allows its origin only)."""
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)  # serve() allows the demo page's origin itself
    monkeypatch.setenv("CUSTOMER_LOOKUP", customer_lookup)

    def spy(event: dict[str, Any], context: Any) -> Any:
        calls.append(event)
        return lambda_handler(event, context)

    server = serve(port=0, handler=spy)
    yield server
    server.close()


@pytest.fixture
def portal(api: GatewayServer) -> PortalStandIn:
    """The local run's stand-in of Paddle's portal, where its Paddle fake's links point."""
    assert api.portal_standin is not None
    return api.portal_standin


@pytest.fixture
def context(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies, no storage). The portal stand-in's certificate is a throwaway one."""
    context = browser.new_context(ignore_https_errors=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    screenshot_pages(context, request.node)
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def screenshot_pages(context: BrowserContext, node: pytest.Item) -> None:
    """Each page's end state, as test-results/browser/<module>__<test>[-<n>].png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{node.path.stem}__{node.name}").strip("-")
    for number, open_page in enumerate(context.pages):
        suffix = f"-{number + 1}" if len(context.pages) > 1 else ""
        try:
            open_page.screenshot(path=SCREENSHOTS / f"{name}{suffix}.png", full_page=True, timeout=5_000)
        except Exception as exc:  # a failed screenshot must not hide the test's own result
            print(f"no screenshot of {name}{suffix}: {type(exc).__name__}")
