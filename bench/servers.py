"""Loopback stand-ins for everything the function talks to, each counting what the benchmark reports.

- Secrets Manager: the GetSecretValue JSON protocol over TLS (boto3 reaches it through
  AWS_ENDPOINT_URL_SECRETS_MANAGER), counting calls.
- Paddle: `POST /customers/{id}/portal-sessions` and `GET /customers?email=&status=active` (the verified-email
  lookup) over TLS with keep-alive, counting accepted TCP connections and requests.
- The AWS Parameters and Secrets Lambda Extension: `GET /secretsmanager/get?secretId=` on plain HTTP, with the
  extension's own cache (TTL). A miss makes a real GetSecretValue call to the Secrets Manager stand-in over a new
  TLS connection, as the extension's first request does, so its latency is part of the function's first call.
- The X-Ray daemon: a UDP socket that counts and drops segments.

Every server sets TCP_NODELAY on accepted connections (without it small answers stall ~40 ms on loopback) and
binds 127.0.0.1 only. TLS uses a throwaway CA made for the run; clients trust it through a bundle that also holds
the system's CAs, so loading the bundle costs what it costs on Lambda.
"""

from __future__ import annotations

import datetime
import http.client
import json
import re
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

# Obviously fake, shaped like a sandbox key (never a real one).
FAKE_API_KEY = "pdl_sdbx_apikey_01gtgztp8f4kek3yd4g1wrksa3_FAKEFAKEFAKEFAKEFAKE_AAA"  # pragma: allowlist secret
SECRET_NAME = "paddle-portal/api-key"  # noqa: S105  # pragma: allowlist secret - a name, not a secret
SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET_NAME}-AbCdEf"
PORTAL_BASE = "https://customer-portal.paddle.com/cpl_01j7zbyqs3vah3aafp4jf62qaw"
PORTAL_TOKEN = "pga_eyJhbGciOiJIUzI1NiJ9.FAKE-portal-token.signature"  # noqa: S105 - fake
CA_ONLY_FILE = "ca.pem"
SYSTEM_CA_FILES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
_PORTAL_PATH = re.compile(r"^/customers/(ctm_[a-z0-9]{26})/portal-sessions$")
# The one customer the list-customers stand-in knows: the email and customer of the JWT event
# (events/http_api/post_portal_sessions_jwt.json).
CUSTOMER_EMAIL = "jane.doe@example.com"
CUSTOMER_ID = "ctm_01gysfvfy7vqhpzkq8rjmrq7an"  # pragma: allowlist secret - a customer id


class Counter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self) -> None:
        with self._lock:
            self.value += 1

    def take(self) -> int:
        """The count since the last take (one variant's process at a time talks to the servers)."""
        with self._lock:
            value, self.value = self.value, 0
            return value


def make_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A CA and a 127.0.0.1 certificate for this run; returns the server context and the client CA bundle."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "paddle-portal bench CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = directory / "server.pem", directory / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    system = next((Path(p).read_bytes() for p in SYSTEM_CA_FILES if Path(p).is_file()), b"")
    bundle = directory / "ca-bundle.pem"
    bundle.write_bytes(system + b"\n" + ca.public_bytes(serialization.Encoding.PEM))
    # The run's CA alone: what a client given a one-certificate bundle loads (a candidate measures botocore with it).
    (directory / CA_ONLY_FILE).write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, bundle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.tls = tls
        self.connections = Counter()
        self.requests = Counter()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        self.connections.add()
        return sock, address

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is not None:
            try:
                # Handshake in the connection's own thread, not in the accept loop.
                request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return
        super().finish_request(request, client_address)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # TCP_NODELAY on every accepted connection
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def secret_value_response() -> bytes:
    """GetSecretValue's answer, holding the key in AWS managed rotation's shape."""
    return json.dumps(
        {
            "ARN": SECRET_ARN,
            "Name": SECRET_NAME,
            "VersionId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
            "SecretString": json.dumps({"api_key": FAKE_API_KEY}),
            "VersionStages": ["AWSCURRENT"],
            "CreatedDate": 1727865344.123,
        }
    ).encode()


class _SecretsManagerHandler(_Handler):
    def do_POST(self) -> None:
        request = json.loads(self._body() or b"{}")
        target = self.headers.get("X-Amz-Target", "")
        self.server.requests.add()
        if target != "secretsmanager.GetSecretValue" or request.get("SecretId") not in (SECRET_NAME, SECRET_ARN):
            body = json.dumps({"__type": "ResourceNotFoundException", "message": "not found"}).encode()
            self._send(400, body, "application/x-amz-json-1.1")
            return
        self._send(200, secret_value_response(), "application/x-amz-json-1.1", {"x-amzn-RequestId": str(uuid.uuid4())})


def portal_session_body(customer_id: str, subscription_ids: list[str]) -> bytes:
    """Paddle's 201 answer (schema `customer-portal-session`)."""
    subscriptions = [
        {
            "id": sub,
            "cancel_subscription": (
                f"{PORTAL_BASE}?action=cancel_subscription&subscription_id={sub}&token={PORTAL_TOKEN}"
            ),
            "update_subscription_payment_method": (
                f"{PORTAL_BASE}?action=update_subscription_payment_method&subscription_id={sub}&token={PORTAL_TOKEN}"
            ),
        }
        for sub in subscription_ids
    ]
    return json.dumps(
        {
            "data": {
                "id": "cpls_01h4ge9r64c22exjsx0fy8b48b",
                "customer_id": customer_id,
                "urls": {
                    "general": {"overview": f"{PORTAL_BASE}?action=overview&token={PORTAL_TOKEN}"},
                    "subscriptions": subscriptions,
                },
                "created_at": "2024-10-25T06:53:58Z",
            },
            "meta": {"request_id": "5f3b2a9e-7c1d-4e8f-9a6b-0c2d4e6f8a1b"},
        }
    ).encode()


def customer_list_body(email: str) -> bytes:
    """Paddle's 200 answer to list-customers filtered by one email (schema `customer`, one page)."""
    found = [
        {
            "id": CUSTOMER_ID,
            "status": "active",
            "custom_data": None,
            "name": "Jane Doe",
            "email": CUSTOMER_EMAIL,
            "marketing_consent": False,
            "locale": "en",
            "created_at": "2024-04-11T15:57:24.813Z",
            "updated_at": "2024-04-11T15:59:56.658719Z",
            "import_meta": None,
        }
    ]
    found = found if email == CUSTOMER_EMAIL else []
    pagination = {"per_page": 50, "next": "https://api.paddle.com/customers?after=", "has_more": False}
    return json.dumps(
        {
            "data": found,
            "meta": {
                "request_id": "8c1e4f2a-3b5d-4e6f-8a7b-9c0d1e2f3a4b",
                "pagination": {**pagination, "estimated_total": len(found)},
            },
        }
    ).encode()


_FORBIDDEN = b'{"error":{"type":"request_error","code":"forbidden","detail":"no"}}'


class _PaddleHandler(_Handler):
    _answers: ClassVar[dict[bytes, bytes]] = {}  # same ask, same answer: the stand-in stays cheap

    def _authorized(self) -> bool:
        return self.headers.get("Authorization", "").startswith("Bearer pdl_")

    def do_GET(self) -> None:
        """List customers (`GET /customers?email=<one address>&status=active`): the verified-email lookup."""
        parts = urlsplit(self.path)
        self.server.requests.add()
        query = parse_qs(parts.query)
        if parts.path != "/customers" or query.get("status") != ["active"] or not self._authorized():
            self._send(403, _FORBIDDEN, "application/json")
            return
        email = query.get("email", [""])[0]
        key = b"GET|" + email.encode()
        body = self._answers.get(key)
        if body is None:
            body = self._answers[key] = customer_list_body(email)
        self._send(200, body, "application/json", {"Request-Id": "8c1e4f2a-3b5d-4e6f-8a7b-9c0d1e2f3a4b"})

    def do_POST(self) -> None:
        request = self._body()
        self.server.requests.add()
        found = _PORTAL_PATH.match(urlsplit(self.path).path)
        if not found or not self._authorized():
            self._send(403, _FORBIDDEN, "application/json")
            return
        key = found.group(1).encode() + b"|" + request
        body = self._answers.get(key)
        if body is None:
            subscription_ids = json.loads(request or b"{}").get("subscription_ids", [])
            body = self._answers[key] = portal_session_body(found.group(1), subscription_ids)
        self._send(201, body, "application/json", {"Request-Id": "5f3b2a9e-7c1d-4e8f-9a6b-0c2d4e6f8a1b"})


class _ExtensionHandler(_Handler):
    """The Parameters and Secrets extension's local API (cache in front of Secrets Manager)."""

    ttl_seconds: ClassVar[float] = 300.0
    cache: ClassVar[dict[str, tuple[float, bytes]]] = {}
    upstream: ClassVar[tuple[int, ssl.SSLContext] | None] = None  # the Secrets Manager stand-in's port, client TLS

    @classmethod
    def fetch(cls, secret_id: str) -> bytes:
        """GetSecretValue over a new TLS connection (the client context is built once, like a native binary's)."""
        assert cls.upstream is not None  # noqa: S101 - set by Servers before any request
        port, context = cls.upstream
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
        try:
            connection.request(
                "POST",
                "/",
                body=json.dumps({"SecretId": secret_id}),
                headers={
                    "X-Amz-Target": "secretsmanager.GetSecretValue",
                    "Content-Type": "application/x-amz-json-1.1",
                },
            )
            response = connection.getresponse()
            return response.read()
        finally:
            connection.close()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.server.requests.add()
        if parts.path != "/secretsmanager/get" or not self.headers.get("X-Aws-Parameters-Secrets-Token"):
            self._send(400, b"bad request", "text/plain")
            return
        secret_id = parse_qs(parts.query).get("secretId", [""])[0]
        if secret_id not in (SECRET_NAME, SECRET_ARN):
            self._send(400, b"not found", "text/plain")
            return
        hit = self.cache.get(secret_id)
        if hit is None or time.monotonic() - hit[0] > self.ttl_seconds:
            hit = self.cache[secret_id] = (time.monotonic(), self.fetch(secret_id))  # counted by Secrets Manager
        self._send(200, hit[1], "application/json")


class UdpSink:
    """The X-Ray daemon's UDP port: segments are counted and dropped."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.packets = Counter()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def _drain(self) -> None:
        while True:
            try:
                self.sock.recv(65536)
            except OSError:
                return
            self.packets.add()

    def close(self) -> None:
        self.sock.close()


class Servers:
    """All stand-ins, started together in background threads of the benchmark's own process."""

    def __init__(self, directory: Path) -> None:
        tls, self.ca_bundle = make_tls(directory)
        self.ca_only = directory / CA_ONLY_FILE
        self.secrets_manager = _Server(_SecretsManagerHandler, tls)
        self.paddle = _Server(_PaddleHandler, tls)
        self.extension = _Server(_ExtensionHandler, None)
        client = ssl.create_default_context(cafile=str(self.ca_bundle))
        _ExtensionHandler.upstream = (self.secrets_manager.server_address[1], client)
        self.xray = UdpSink()
        self._servers = (self.secrets_manager, self.paddle, self.extension)
        for server in self._servers:
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def reset(self) -> None:
        """Forget counts and the extension's cache: each fresh process starts like a new execution environment."""
        for server in self._servers:
            server.connections.take()
            server.requests.take()
        _ExtensionHandler.cache.clear()
        self.xray.packets.take()

    def counts(self) -> dict[str, int]:
        return {
            "secrets_manager_calls": self.secrets_manager.requests.take(),
            "paddle_connections": self.paddle.connections.take(),
            "paddle_requests": self.paddle.requests.take(),
            "extension_requests": self.extension.requests.take(),
            "xray_segments": self.xray.packets.take(),
        }

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self.xray.close()
