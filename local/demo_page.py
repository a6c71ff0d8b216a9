"""The sign-in page of `examples/web/`, served by the local run on an origin of its own (another 127.0.0.1 port).

A static server for the page's files plus the `config.json` of this run (the local API's URL and the embedded user
pool's endpoint and app client), as a deployed page is served next to the `config.json` its owner writes. Being
another origin than the API, the page calls it with CORS, as a real single-page app does: `local.server` adds this
origin to `CORS_ALLOWED_ORIGINS` unless that is set already.

Only the page's own files are served (HTML, JavaScript, CSS directly in `examples/web/`; never its README or a
`config.json` lying there), with the headers a careful static host sends: a Content-Security-Policy that also
covers what the page's `<meta>` cannot say (`frame-ancestors`), `nosniff`, no referrer, no caching.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from local.loopback import LoopbackServer

PAGE_DIR = Path(__file__).resolve().parent.parent / "examples" / "web"
SERVED_SUFFIXES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css"}
CONTENT_SECURITY_POLICY = "; ".join(  # the page's <meta> policy, plus frame-ancestors (HTTP header only)
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self' https: http://127.0.0.1:* http://localhost:*",
        "form-action 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)


def page_config(api_url: str, cognito_endpoint: str, client_id: str, region: str) -> dict[str, Any]:
    """The `config.json` the page reads (examples/web/README.md documents it)."""
    return {
        "apiUrl": api_url,
        "cognito": {"region": region, "endpoint": cognito_endpoint.rstrip("/") + "/", "clientId": client_id},
    }


class DemoPage(LoopbackServer):
    """`DemoPage(config).start()`: serves `page_dir` and `config` as /config.json; `config` may be completed after
    the start (the API's URL is known only once the gateway listens)."""

    def __init__(
        self, config: dict[str, Any], page_dir: Path = PAGE_DIR, address: tuple[str, int] = ("127.0.0.1", 0)
    ) -> None:
        self.config = config
        self.page_dir = page_dir
        super().__init__(address, _PageRequestHandler)

    @property
    def origin(self) -> str:
        """What a browser sends as `Origin` from this page (the URL without a path)."""
        return self.url

    def file(self, path: str) -> tuple[bytes, str] | None:
        """The body and type of what `path` names, or None (404)."""
        if path == "/config.json":
            return json.dumps(self.config, indent=2).encode(), "application/json"
        name = "index.html" if path == "/" else unquote(path).removeprefix("/")
        candidate = self.page_dir / name
        # One level, known suffixes only: no `..`, no sub-folders, no README, no config.json from the folder.
        if "/" in name or "\\" in name or candidate.suffix not in SERVED_SUFFIXES or not candidate.is_file():
            return None
        return candidate.read_bytes(), SERVED_SUFFIXES[candidate.suffix]


class _PageRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: DemoPage

    def do_GET(self) -> None:
        found = self.server.file(urlsplit(self.path).path) if self.command in ("GET", "HEAD") else None
        status, (body, content_type) = (200, found) if found else (404, (b"Not Found\n", "text/plain"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in HEADERS:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the gateway's log is the one that matters
