"""A Paddle Billing API fake on a real loopback socket, for the local run and the tests.

Serves `POST /customers/{customer_id}/portal-sessions` the way Paddle does: bearer-key check (403), id check (404),
body check (400 with field errors), configurable unknown customers/subscriptions (404), and spec-shaped 201 answers
(checked against Paddle's OpenAPI document in tests/local). Also `GET /customers` (list customers) over the customers
it is given, with Paddle's `email` (exact match, comma-separated list), `id` and `status` filters and one page of
results. Every request is recorded for assertions, and every portal link it hands out can be traced back to its
customer (`customer_of_link`), as Paddle's portal knows whose session a token opens.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from local.loopback import LoopbackServer

CUSTOMER_ID = re.compile(r"^ctm_[a-z\d]{26}$")
SUBSCRIPTION_ID = re.compile(r"^sub_[a-z\d]{26}$")
ROUTE = re.compile(r"^/customers/([^/]+)/portal-sessions$")
MAX_SUBSCRIPTIONS = 25
MAX_EMAIL_CHARS = 100  # per address in the `email` filter
CUSTOMER_STATUSES = ("active", "archived")
PER_PAGE = 50  # Paddle's default page size
_ALPHABET = string.ascii_lowercase + string.digits


def paddle_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(26))


@dataclass(frozen=True)
class Customer:
    """A customer the fake knows, for `GET /customers` (portal sessions do not need one: any well-formed id works)."""

    id: str
    email: str
    name: str | None = None
    status: str = "active"  # or "archived": archived customers keep their email

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "custom_data": None,
            "name": self.name,
            "email": self.email,
            "marketing_consent": False,
            "locale": "en",
            "created_at": "2024-04-11T15:57:24.813Z",
            "updated_at": "2024-04-11T15:59:56.658719Z",
            "import_meta": None,
        }


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


# The permissions of an API key this fake knows of: the two the function's calls need.
PERMISSIONS = ("customer_portal_session.write", "customer.read")


class PaddleFake:
    """`with PaddleFake(api_key) as paddle: ... paddle.url ... paddle.requests`"""

    def __init__(
        self,
        api_key: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sandbox: bool = False,
        unknown_customers: Iterable[str] = (),
        unknown_subscriptions: Iterable[str] = (),
        customers: Iterable[Customer] = (),
        latency: float = 0.0,
        portal_base: str | None = None,
    ) -> None:
        self.api_key = api_key
        # What the key may do (Paddle > Developer Tools > Authentication); a request beyond it is 403 forbidden.
        self.permissions: set[str] = set(PERMISSIONS)
        # Load tests: seconds per answer, and Paddle's rate limit (an object with `take() -> bool`, such as
        # local.throttle.TokenBucket): beyond it, 429 too_many_requests with Retry-After: 1, as Paddle answers.
        self.latency = latency
        self.rate_limit: Any = None
        self.portal_host = "sandbox-customer-portal.paddle.com" if sandbox else "customer-portal.paddle.com"
        self.portal_id = paddle_id("cpl_")  # one portal per seller account
        # Where links point: Paddle's portal host, or (the local run) its local stand-in, e.g. http://127.0.0.1:3003.
        self.portal_base = (portal_base or f"https://{self.portal_host}").rstrip("/")
        self.unknown_customers = set(unknown_customers)
        self.unknown_subscriptions = set(unknown_subscriptions)
        self.customers = list(customers)
        self._requests: list[RecordedRequest] = []
        self._link_customers: dict[str, str] = {}  # portal token -> the customer whose session it opens
        self._lock = threading.Lock()
        self._server = LoopbackServer((host, port), _handler_class(self)).start("paddle-fake")

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def connections(self) -> int:
        """TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests)."""
        return self._server.connections

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def customer_of_link(self, url: str) -> str | None:
        """The customer whose portal `url` (a link this fake handed out) opens; None for any other URL."""
        parts = urlsplit(url)
        if url.partition("?")[0] != f"{self.portal_base}/{self.portal_id}" or parts.username or parts.password:
            return None
        token = dict(parse_qsl(parts.query)).get("token", "")
        with self._lock:
            return self._link_customers.get(token)

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """Paddle's answer to one request, checked in Paddle's order: key, route, body, entities."""
        auth = headers.get("authorization")
        if auth is None:
            return _error(403, "authentication_missing", "Authentication header missing")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _error(403, "authentication_malformed", "Authentication header included, but incorrectly formatted")
        if not secrets.compare_digest(token.strip().encode(), self.api_key.encode()):
            return _error(403, "invalid_token", "Authentication token is invalid")
        path, _, query = path.partition("?")
        needed = "customer.read" if path == "/customers" else "customer_portal_session.write"
        if needed not in self.permissions:
            return _error(403, "forbidden", "You do not have permission to perform this request")
        if method == "GET" and path == "/customers":
            return self._list_customers(parse_qsl(query, keep_blank_values=True))
        route = ROUTE.match(path)
        if method != "POST" or route is None or not CUSTOMER_ID.match(route.group(1)):
            return _error(404, "not_found", "Entity not found")
        customer_id = route.group(1)
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError:
            return _error(400, "invalid_json", "Invalid JSON in your request.")
        if not isinstance(payload, dict):
            return _error(400, "bad_request", "Invalid request.")
        field_errors = _field_errors(payload)
        if field_errors:
            return _error(400, "invalid_field", "Request does not pass validation.", field_errors)
        subscription_ids: list[str] = payload.get("subscription_ids") or []
        if customer_id in self.unknown_customers:
            return _error(404, "not_found", f"Entity {customer_id} not found")
        for sub in subscription_ids:
            if sub in self.unknown_subscriptions:
                return _error(404, "not_found", f"Entity {sub} not found")
        return 201, {"data": self._session(customer_id, subscription_ids), "meta": {"request_id": str(uuid.uuid4())}}

    def _list_customers(self, query: list[tuple[str, str]]) -> tuple[int, dict[str, Any]]:
        """Paddle's list-customers: filters are comma-separated lists, `status` defaults to active, email and id match
        exactly; one page (the fake holds few customers)."""
        params = dict(query)  # Paddle takes one value per filter (explode: false); the last one wins here
        emails = _list(params.get("email"))
        ids = _list(params.get("id"))
        statuses = _list(params.get("status")) or ["active"]
        errors = [
            {"field": "email", "message": f"Must be at most {MAX_EMAIL_CHARS} characters"}
            for email in emails
            if len(email) > MAX_EMAIL_CHARS
        ]
        errors += [
            {"field": "status", "message": f"Must be one of {', '.join(CUSTOMER_STATUSES)}"}
            for status in statuses
            if status not in CUSTOMER_STATUSES
        ]
        if errors:
            return _error(400, "invalid_field", "Request does not pass validation.", errors)
        found = [
            customer
            for customer in self.customers
            if customer.status in statuses
            and (not emails or customer.email in emails)
            and (not ids or customer.id in ids)
        ]
        meta = {
            "request_id": str(uuid.uuid4()),
            "pagination": {
                "per_page": PER_PAGE,
                "next": f"{self.url}/customers?after={found[-1].id if found else ''}",
                "has_more": False,
                "estimated_total": len(found),
            },
        }
        return 200, {"data": [customer.to_json() for customer in found[:PER_PAGE]], "meta": meta}

    def _session(self, customer_id: str, subscription_ids: list[str]) -> dict[str, Any]:
        base = f"{self.portal_base}/{self.portal_id}"

        def link(action: str, subscription_id: str | None = None) -> str:
            sub = f"&subscription_id={subscription_id}" if subscription_id else ""
            token = f"pga_{secrets.token_urlsafe(48)}"
            with self._lock:
                self._link_customers[token] = customer_id
            return f"{base}?action={action}{sub}&token={token}"

        now = datetime.now(UTC)
        return {
            "id": paddle_id("cpls_"),
            "customer_id": customer_id,
            "urls": {
                "general": {"overview": link("overview")},
                "subscriptions": [
                    {
                        "id": sub,
                        "cancel_subscription": link("cancel_subscription", sub),
                        "update_subscription_payment_method": link("update_subscription_payment_method", sub),
                    }
                    for sub in subscription_ids
                ],
            },
            "created_at": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        }


def _list(value: str | None) -> list[str]:
    """A comma-separated filter value as Paddle reads it (empty items dropped)."""
    return [item for item in (value or "").split(",") if item]


def _field_errors(payload: dict[str, Any]) -> list[dict[str, str]]:
    errors = [
        {"field": "(root)", "message": f"Additional property {key} is not allowed"}
        for key in payload
        if key != "subscription_ids"
    ]
    ids = payload.get("subscription_ids", [])
    if not isinstance(ids, list):
        return [*errors, {"field": "subscription_ids", "message": "Invalid type. Expected: array"}]
    if len(ids) > MAX_SUBSCRIPTIONS:
        errors.append({"field": "subscription_ids", "message": f"Array must have at most {MAX_SUBSCRIPTIONS} items"})
    if len({json.dumps(i) for i in ids}) != len(ids):
        errors.append({"field": "subscription_ids", "message": "Array items must be unique"})
    errors += [
        {"field": f"subscription_ids.{n}", "message": "Does not match pattern '^sub_[a-z\\d]{26}$'"}
        for n, sub in enumerate(ids)
        if not isinstance(sub, str) or not SUBSCRIPTION_ID.match(sub)
    ]
    return errors


def _error(
    status: int, code: str, detail: str, errors: list[dict[str, str]] | None = None
) -> tuple[int, dict[str, Any]]:
    error: dict[str, Any] = {
        "type": "request_error",
        "code": code,
        "detail": detail,
        "documentation_url": f"https://developer.paddle.com/v1/errors/shared/{code}",
    }
    if errors:
        error["errors"] = errors
    return status, {"error": error, "meta": {"request_id": str(uuid.uuid4())}}


def _handler_class(fake: PaddleFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Paddle's edge does

        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            fake._record(RecordedRequest(self.command, self.path, headers, body))
            if fake.latency:
                time.sleep(fake.latency)
            limited = fake.rate_limit is not None and not fake.rate_limit.take()
            if limited:
                status, payload = _error(429, "too_many_requests", "IP address exceeded the allowed rate limit.")
            else:
                status, payload = fake.answer(self.command, self.path, headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            if limited:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Type", "application/json")
            self.send_header("Request-Id", payload["meta"]["request_id"])  # required header in Paddle's spec
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the tests read `requests` instead

    return Handler
