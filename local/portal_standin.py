"""A stand-in for Paddle's hosted customer portal, on 127.0.0.1: where an offline journey ends, on a page that says so.

Paddle's fake (`local.paddle_fake`) makes up portal ids and tokens; the real portal would answer them with an error
page, or not at all offline. So the local run (`make run`) points the fake's links at this server instead
(`PaddleFake(portal_base=...)`), and tells the function so through `LOCAL_PORTAL_STANDIN_URL`, the one setting that
allows a portal link that is not https on Paddle's hosts; the function refuses that setting inside Lambda and the
template never sets it. Each page names what the session was for: the customer (asked of the fake that handed the
link out), the action and the subscription.

The browser tier drives the same stand-in, as `make run` starts it. Every visit is recorded for the tests. Nothing is
logged: a portal link is a credential, even a fake one.
"""

from __future__ import annotations

import contextlib
import html
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.loopback import LoopbackServer

HEADING = "Paddle customer portal (local stand-in)"
ACTIONS = {
    "overview": "subscriptions, payments and invoices",
    "cancel_subscription": "cancel this subscription",
    "update_subscription_payment_method": "update this subscription's payment method",
}
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


@dataclass(frozen=True)
class Visit:
    url: str  # the link as the browser asked for it: scheme, host, path and query
    customer_id: str | None  # whose portal the link opens, per the Paddle fake (None: a link it never issued)

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query))


class PortalStandIn(LoopbackServer):
    """`PortalStandIn(port=3003).start()`: plain http on 127.0.0.1 (0: any free port), answering for this machine's
    names only."""

    def __init__(self, port: int = 0, *, names: Mapping[str, str] | None = None, back_url: str | None = None) -> None:
        self.lookup: Callable[[str], str | None] = lambda url: None  # the Paddle fake's customer_of_link
        self.names = dict(names or {})  # customer id -> name, to show
        self.back_url = back_url  # the demo page, for a link back
        self._visits: list[Visit] = []
        self._visits_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _PortalRequestHandler)

    def answers(self, host: str) -> bool:
        return host in ("127.0.0.1", "localhost", "::1")

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

    def page(self, visit: Visit) -> str:
        """The page for one visit: what this is, and what the session was for."""
        query = visit.query
        if visit.customer_id is None:
            customer = "unknown: the local Paddle fake never issued this link (or the local run was restarted)"
        else:
            name = self.names.get(visit.customer_id)
            customer = f"{name} ({visit.customer_id})" if name else visit.customer_id
        action = query.get("action", "")
        rows = [
            ("Customer", customer),
            ("Action", f"{action} ({ACTIONS[action]})" if action in ACTIONS else action),
            ("Subscription", query.get("subscription_id", "")),
        ]
        back = f'<p><a href="{html.escape(self.back_url)}">Back to the demo page</a></p>' if self.back_url else ""
        return (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{HEADING}</title></head>'
            '<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">'
            f"<h1>{HEADING}</h1>"
            "<p>It worked: paddle-portal created a customer-portal session and your browser followed its link. "
            "This page stands in for Paddle's portal, because the local run's Paddle is a fake; with a Paddle sandbox "
            "key (PADDLE_API_KEY) the same click opens Paddle's real sandbox portal.</p>"
            "<h2>The session was for</h2><dl>"
            + "".join(f"<dt>{name}</dt><dd>{html.escape(value)}</dd>" for name, value in rows if value)
            + f"</dl>{back}</body></html>"
        )


class _PortalRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: PortalStandIn

    def do_GET(self) -> None:
        try:
            host = urlsplit(f"//{self.headers.get('Host') or ''}").hostname or ""
        except ValueError:
            host = ""
        path = urlsplit(self.path).path
        if path == "/favicon.ico" or not self.server.answers(host) or path.count("/") != 1 or len(path) < 2:
            self._answer(404, b"Not Found\n", "text/plain")
            return
        url = f"http://{self.headers.get('Host')}{self.path}"
        visit = Visit(url, self.server.lookup(url))
        self.server.record(visit)
        self._answer(200, self.server.page(visit).encode(), "text/html; charset=utf-8")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Referrer-Policy", "no-referrer")  # the page's URL holds a portal token
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the request line holds a portal token

    def handle(self) -> None:
        # A browser may give up on a connection (a speculative one, or when its context closes).
        with contextlib.suppress(ConnectionError):
            super().handle()
