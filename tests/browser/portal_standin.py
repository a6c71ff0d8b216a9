"""Paddle's customer portal, played on 127.0.0.1 so that a browser journey ends on a page the tests control.

Chromium is started with host-resolver rules that send `customer-portal.paddle.com` and
`sandbox-customer-portal.paddle.com` to this HTTPS server (a throwaway certificate for both names; the test contexts
ignore certificate errors), so the browser follows the real 302 from the signed link to the real portal URL.
Playwright's `page.route` cannot do this: it never sees the hops of a redirect (microsoft/playwright #17161, #33882).

Every visit is recorded; the page shows whose portal the link opens, asking the Paddle fake that handed the link
out (`PaddleFake.customer_of_link`). Nothing is logged: portal links are credentials.
"""

from __future__ import annotations

import contextlib
import html
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.loopback import LoopbackServer
from tests.faultserver import make_tls_files

PORTAL_HOSTS = ("customer-portal.paddle.com", "sandbox-customer-portal.paddle.com")
HEADING = "Paddle customer portal (test stand-in)"


@dataclass(frozen=True)
class Visit:
    url: str  # https://<portal host><path>?<query>, as the browser asked for it
    customer_id: str | None  # whose portal the link opens, per the Paddle fake (None: a link it never issued)

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query))


class PortalStandIn(LoopbackServer):
    def __init__(self, tls_dir: Path) -> None:
        self.tls = make_tls_files(tls_dir, PORTAL_HOSTS).server_context
        self.lookup: Callable[[str], str | None] = lambda url: None  # set per test: the fake's customer_of_link
        self._visits: list[Visit] = []
        self._visits_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _PortalRequestHandler)

    @property
    def port(self) -> int:
        return int(self.socket.getsockname()[1])

    def host_resolver_rules(self) -> str:
        """Chromium's --host-resolver-rules: the portal hosts to this server; every other name fails at once (the
        tests run offline and talk to 127.0.0.1 only)."""
        portal = [f"MAP {host} 127.0.0.1:{self.port}" for host in PORTAL_HOSTS]
        return ", ".join([*portal, "MAP * ~NOTFOUND", "EXCLUDE 127.0.0.1"])

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        # The handshake happens in the request's thread (first read), so a silent connection cannot stall accept().
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def record(self, visit: Visit) -> None:
        with self._visits_lock:
            self._visits.append(visit)

    def visits(self) -> list[Visit]:
        with self._visits_lock:
            return list(self._visits)

    def reset(self) -> None:
        with self._visits_lock:
            self._visits.clear()
        self.lookup = lambda url: None


class _PortalRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: PortalStandIn

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        if self.path == "/favicon.ico" or host not in PORTAL_HOSTS:
            self._answer(404, b"")
            return
        url = f"https://{host}{self.path}"
        visit = Visit(url, self.server.lookup(url))
        self.server.record(visit)
        query = visit.query
        rows = [
            ("Customer", visit.customer_id or "unknown: Paddle never issued this link"),
            ("Action", query.get("action", "")),
            ("Subscription", query.get("subscription_id", "")),
        ]
        page = (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{HEADING}</title></head><body>'
            f"<h1>{HEADING}</h1><dl>"
            + "".join(f"<dt>{name}</dt><dd>{html.escape(value)}</dd>" for name, value in rows if value)
            + "</dl></body></html>"
        )
        self._answer(200, page.encode())

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the request line holds a portal token

    def handle(self) -> None:
        # A browser may give up on a connection (a speculative one, or when its context closes).
        with contextlib.suppress(ssl.SSLError, ConnectionError):
            super().handle()
