"""`make run` serves examples/web/ on an origin of its own, with this run's config.json, and lets that origin call the
API (CORS). The page itself is driven in a browser by tests/browser."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3

from local.demo_page import PAGE_DIR, DemoPage, page_config
from local.server import banner, serve


@pytest.fixture
def page_server(tmp_path: Path) -> Iterator[DemoPage]:
    for name in ("index.html", "portal.js", "README.md", "config.json"):
        (tmp_path / name).write_text(f"{name} from the folder")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.js").write_text("nested")
    server = DemoPage({"apiUrl": "http://api.test"}, page_dir=tmp_path).start()
    yield server
    server.stop()


def get(url: str) -> urllib3.BaseHTTPResponse:
    return urllib3.request("GET", url, redirect=False, retries=False)


def test_the_page_its_module_and_this_runs_config_are_served_with_careful_headers(page_server: DemoPage) -> None:
    page_server.config["apiUrl"] = "http://127.0.0.1:1"  # completed after the start, as serve() does

    index, module, config = (get(f"{page_server.url}/{name}") for name in ("", "portal.js", "config.json"))

    assert (index.status, index.data, index.headers["Content-Type"]) == (200, b"index.html from the folder",
                                                                         "text/html; charset=utf-8")  # fmt: skip
    assert (module.status, module.headers["Content-Type"]) == (200, "text/javascript; charset=utf-8")
    assert (config.headers["Content-Type"], config.json()) == ("application/json", {"apiUrl": "http://127.0.0.1:1"})
    for response in (index, module):
        headers = response.headers
        assert {"script-src 'self'", "frame-ancestors 'none'"} <= set(headers["Content-Security-Policy"].split("; "))
        assert (headers["X-Content-Type-Options"], headers["Referrer-Policy"], headers["Cache-Control"]) == (
            "nosniff", "no-referrer", "no-store")  # fmt: skip


@pytest.mark.parametrize(
    "path", ["/README.md", "/sub/x.js", "/..%2Fserver.py", "/%2e%2e/local/server.py", "/../README.md", "/x.js"]
)
def test_nothing_else_is_served(page_server: DemoPage, path: str) -> None:
    assert get(f"{page_server.url}{path}").status == 404


def test_the_example_is_one_page_and_one_module_with_the_documented_config() -> None:
    assert {p.name for p in PAGE_DIR.iterdir() if p.suffix in (".html", ".js", ".css")} == {"index.html", "portal.js"}
    # One module and no inline script (the page's CSP would refuse it anyway)
    assert re.findall(r"<script\b[^>]*>", (PAGE_DIR / "index.html").read_text()) == [
        '<script type="module" src="portal.js">'
    ]
    example = json.loads((PAGE_DIR / "config.example.json").read_text())
    config = page_config("http://127.0.0.1:3000", "http://127.0.0.1:5000", "client", "eu-west-1")
    cognito = {"region": "eu-west-1", "endpoint": "http://127.0.0.1:5000/", "clientId": "client"}
    assert config == {"apiUrl": "http://127.0.0.1:3000", "cognito": cognito}
    assert (set(example), set(example["cognito"])) == (set(config), set(config["cognito"]))
    assert example["cognito"]["endpoint"] == f"https://cognito-idp.{example['cognito']['region']}.amazonaws.com/"


@pytest.mark.parametrize("own_setting", [None, "https://app.example.com"], ids=["default", "cors-of-your-own"])
def test_serve_starts_the_page_on_its_own_origin_and_lets_it_call_the_api(
    restore_environ: None, monkeypatch: pytest.MonkeyPatch, own_setting: str | None
) -> None:
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)
    if own_setting:
        monkeypatch.setenv("CORS_ALLOWED_ORIGINS", own_setting)
    api = serve(port=0)
    try:
        assert None not in (api.demo_page, api.user_pool, api.cors)
        page, origin, pool, text = api.demo_page.url, api.demo_page.origin, api.user_pool, banner(api, os.environ)
        config, api_url, cors = get(f"{page}/config.json").json(), api.url, api.cors.allow_origins
        headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
        preflight = urllib3.request("OPTIONS", f"{api_url}/portal-links", headers=headers)
    finally:
        api.close()

    assert config == page_config(api_url, pool.endpoint, pool.client_id, pool.region)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", origin)
    assert origin != api_url  # its own origin: the page calls the API with CORS, as a deployed page does
    if own_setting:
        assert cors == (own_setting,)
        assert f"demo page: {page}/  (NOT in CORS_ALLOWED_ORIGINS: calls fail)" in text
    else:
        assert cors == (origin, origin.replace("127.0.0.1", "localhost"))
        assert (preflight.status, preflight.headers.get("Access-Control-Allow-Origin")) == (204, origin)
        assert f"demo page: {page}/  (sign in as a demo user, then Manage billing;" in text
    with pytest.raises(urllib3.exceptions.HTTPError):  # close() stopped the page
        urllib3.request("GET", f"{page}/", retries=False, timeout=2)
