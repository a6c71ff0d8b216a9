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
from local.server import GatewayServer, banner, serve


@pytest.fixture
def api(restore_environ: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[GatewayServer]:
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)
    server = serve(port=0)
    yield server
    server.close()


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


def test_the_page_and_its_module_are_served_with_a_careful_hosts_headers(page_server: DemoPage) -> None:
    index, module = get(f"{page_server.url}/"), get(f"{page_server.url}/portal.js")

    assert (index.status, index.data, index.headers["Content-Type"]) == (
        200,
        b"index.html from the folder",
        "text/html; charset=utf-8",
    )
    assert (module.status, module.headers["Content-Type"]) == (200, "text/javascript; charset=utf-8")
    for response in (index, module):
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"


def test_config_json_is_this_runs_not_a_file_in_the_folder(page_server: DemoPage) -> None:
    page_server.config["apiUrl"] = "http://127.0.0.1:1"  # completed after the start, as serve() does

    response = get(f"{page_server.url}/config.json")

    assert (response.status, response.headers["Content-Type"]) == (200, "application/json")
    assert response.json() == {"apiUrl": "http://127.0.0.1:1"}


@pytest.mark.parametrize(
    "path",
    ["/README.md", "/sub/x.js", "/..%2Fserver.py", "/%2e%2e/local/server.py", "/../README.md", "/nothing.js"],
)
def test_nothing_else_is_served(page_server: DemoPage, path: str) -> None:
    assert get(f"{page_server.url}{path}").status == 404


def test_the_example_folder_holds_one_page_and_one_module() -> None:
    served = sorted(p.name for p in PAGE_DIR.iterdir() if p.suffix in (".html", ".js", ".css"))

    assert served == ["index.html", "portal.js"]
    html = (PAGE_DIR / "index.html").read_text()
    # One module and no inline script (the page's CSP would refuse it anyway)
    assert re.findall(r"<script\b[^>]*>", html) == ['<script type="module" src="portal.js">']


def test_page_config_has_the_documented_shape() -> None:
    assert page_config("http://127.0.0.1:3000", "http://127.0.0.1:5000", "client", "eu-west-1") == {
        "apiUrl": "http://127.0.0.1:3000",
        "cognito": {"region": "eu-west-1", "endpoint": "http://127.0.0.1:5000/", "clientId": "client"},
    }


def test_serve_starts_the_page_for_this_run_and_lets_its_origin_call_the_api(api: GatewayServer) -> None:
    assert api.demo_page is not None
    assert api.user_pool is not None
    page = api.demo_page

    config = get(f"{page.url}/config.json").json()
    preflight = urllib3.request(
        "OPTIONS",
        f"{api.url}/portal-links",
        headers={"Origin": page.origin, "Access-Control-Request-Method": "POST"},
    )

    assert config["apiUrl"] == api.url
    assert config["cognito"] == {
        "region": api.user_pool.region,
        "endpoint": f"{api.user_pool.endpoint}/",
        "clientId": api.user_pool.client_id,
    }
    assert os.environ["CORS_ALLOWED_ORIGINS"] == f"{page.origin},{page.origin.replace('127.0.0.1', 'localhost')}"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", page.origin)
    assert page.origin != api.url  # its own origin: the page calls the API with CORS, as a deployed page does
    assert (preflight.status, preflight.headers.get("Access-Control-Allow-Origin")) == (204, page.origin)
    assert f"demo page: {page.url}/  (sign in as a demo user, then Manage billing;" in banner(api, os.environ)


def test_a_cors_setting_of_your_own_is_kept(restore_environ: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://app.example.com")
    server = serve(port=0)
    try:
        text = banner(server, os.environ)
    finally:
        server.close()

    assert server.cors is not None
    assert server.cors.allow_origins == ("https://app.example.com",)
    assert re.search(r"^demo page: http://127\.0\.0\.1:\d+/  \(NOT in CORS_ALLOWED_ORIGINS: calls fail\)$", text, re.M)


def test_close_stops_the_page(restore_environ: None) -> None:
    server = serve(port=0)
    assert server.demo_page is not None
    url = server.demo_page.url

    server.close()

    with pytest.raises(urllib3.exceptions.HTTPError):
        urllib3.request("GET", f"{url}/", retries=False, timeout=2)


def test_the_documented_config_example_matches_the_shape() -> None:
    example = json.loads((PAGE_DIR / "config.example.json").read_text())

    assert set(example) == {"apiUrl", "cognito"}
    assert set(example["cognito"]) == {"region", "endpoint", "clientId"}
    assert example["cognito"]["endpoint"] == f"https://cognito-idp.{example['cognito']['region']}.amazonaws.com/"
