"""A scriptable HTTP/1.1 server on 127.0.0.1 for fault injection: real sockets, one thread per TCP connection.

Each request takes the next scripted `Reply` (or the default one); a reply can be any status, headers and body, or a
fault: silence before the status line, a stall or a slow drip in the middle of the body, a body shorter than its
Content-Length, a TCP reset (SO_LINGER 0), a close without an answer, a close right after an answer on a kept-alive
connection, raw garbage instead of HTTP. The server records every request and counts TCP connections, accepted and
closed. Optionally TLS (`tls=` a server `ssl.SSLContext`, see `make_tls_files`).
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal

from tests.support import CUSTOMER_ID, SUBSCRIPTION_ID, portal_session

Action = Literal["answer", "reset", "drop", "raw"]
MAX_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    # "reset": read the request, then abort with a TCP RST; "drop": close without a byte of answer (as a stale
    # keep-alive connection does); "raw": send `body` instead of an HTTP answer, then close
    action: Action = "answer"
    stall_before: float = 0.0  # silence after the request, before the status line
    stall_mid_body: float = 0.0  # pause after the first half of the body
    drip: float = 0.0  # send the body one byte at a time, this many seconds apart
    truncate_to: int | None = None  # send only this many body bytes (Content-Length still says all), then close
    close_after: bool = False  # close the connection after answering, although it was left keep-alive
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes

    @classmethod
    def json(cls, status: int, document: Any, headers: dict[str, str] | None = None, **faults: Any) -> Reply:
        body = json.dumps(document).encode()
        return cls(status, (("Content-Type", "application/json"), *(headers or {}).items()), body, **faults)

    @classmethod
    def text(cls, status: int, text: str | bytes, content_type: str = "text/html", **faults: Any) -> Reply:
        body = text.encode() if isinstance(text, str) else text
        return cls(status, (("Content-Type", content_type),), body, **faults)

    def with_(self, **changes: Any) -> Reply:
        return replace(self, **changes)


Responder = Reply | Callable[["Request"], Reply]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    connection: int  # 1-based number of the TCP connection it arrived on

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class FaultServer:
    default: Responder = field(default_factory=lambda: Reply.text(500, "no reply scripted", "text/plain"))
    tls: ssl.SSLContext | None = None
    requests: list[Request] = field(default_factory=list)
    connections: int = 0  # accepted so far
    closed: int = 0  # of those, closed by this side so far

    def __post_init__(self) -> None:
        self._script: deque[Responder] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def script(self, *replies: Responder) -> None:
        """Answer the next requests with these, in order; then the default."""
        with self._lock:
            self._script.extend(replies)

    def wait_closed(self, count: int, timeout: float = 5.0) -> None:
        """Until this side has closed `count` connections (a hang guard, not a timing)."""
        give_up = time.monotonic() + timeout
        while self.closed < count:
            if time.monotonic() > give_up:
                raise TimeoutError(f"{self.closed} of {count} connections closed")
            time.sleep(0.005)

    def __enter__(self) -> FaultServer:
        self._spawn(self._accept_loop)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept() at once on Linux (else: its 50 ms poll)
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=2)
        self._listener.close()

    # -- internals -------------------------------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle + delayed-ACK 40 ms stalls
            with self._lock:
                self.connections += 1
                number = self.connections
                self._open.add(sock)
            self._spawn(self._serve, sock, number)

    def _serve(self, raw_sock: socket.socket, number: int) -> None:
        sock = raw_sock
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(raw_sock, server_side=True)  # detaches raw_sock: track the wrapper
                with self._lock:
                    self._open.discard(raw_sock)
                    self._open.add(sock)
            buffer = b""
            while not self._stop.is_set():
                request, buffer = self._read_request(sock, buffer, number)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                    responder = self._script.popleft() if self._script else self.default
                if not self._answer(sock, responder(request) if callable(responder) else responder):
                    return
        except (OSError, ssl.SSLError, ValueError):
            return  # the client went away (timeouts, verification failures): nothing to report
        finally:
            with contextlib.suppress(OSError):
                sock.close()
            with self._lock:
                self._open.discard(sock)
                self.closed += 1

    @staticmethod
    def _read_request(sock: socket.socket, buffer: bytes, number: int) -> tuple[Request | None, bytes]:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk or len(buffer) > MAX_HEAD_BYTES:
                return None, b""
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                return None, b""
            rest += chunk
        return Request(method, path, headers, rest[:length], number), rest[length:]

    def _answer(self, sock: socket.socket, reply: Reply) -> bool:
        """Act out one reply. False when the connection is finished."""
        if reply.stall_before and self._stop.wait(reply.stall_before):
            return False
        if reply.action == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # linger 0: the kernel sends RST instead of FIN
            return False
        if reply.action != "answer":
            sock.sendall(reply.body)  # "raw": garbage; "drop": nothing
            return False
        names = {name.lower() for name, _ in reply.headers}
        head = [f"HTTP/1.1 {reply.status} {_reason(reply.status)}", *(f"{n}: {v}" for n, v in reply.headers)]
        if reply.send_length and "content-length" not in names:
            head.append(f"Content-Length: {len(reply.body)}")
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        body = reply.body if reply.truncate_to is None else reply.body[: reply.truncate_to]
        if reply.drip:
            for i in range(len(body)):
                sock.sendall(body[i : i + 1])
                if self._stop.wait(reply.drip):
                    return False
        elif reply.stall_mid_body:
            sock.sendall(body[: len(body) // 2])
            if self._stop.wait(reply.stall_mid_body):
                return False
            sock.sendall(body[len(body) // 2 :])
        else:
            sock.sendall(body)
        return not (reply.close_after or reply.truncate_to is not None or not reply.send_length)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Whatever"


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path  # PEM of the test CA: trust it via SSL_CERT_FILE or load_verify_locations
    server_context: ssl.SSLContext  # serves a certificate for `names`, signed by that CA


def make_tls_files(directory: Path, names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> TlsFiles:
    """A throwaway CA and a server certificate for `names` (DNS names or IPv4 addresses), signed by it, with the
    extensions Python 3.13's strict verification asks for. (cryptography comes with moto.)"""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fault-server test CA")])

    def certificate(subject: x509.Name, public_key: Any, *extensions: tuple[Any, bool]) -> x509.Certificate:
        builder = x509.CertificateBuilder(ca_name, subject, public_key, x509.random_serial_number())
        builder = builder.not_valid_before(now - datetime.timedelta(minutes=5))
        builder = builder.not_valid_after(now + datetime.timedelta(hours=1))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(ca_key, hashes.SHA256())

    usage = dict.fromkeys(("content_commitment", "key_encipherment", "data_encipherment", "key_agreement"), False)
    ca_usage = x509.KeyUsage(True, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False, **usage)
    ca_cert = certificate(
        ca_name,
        ca_key.public_key(),
        (x509.BasicConstraints(ca=True, path_length=None), True),
        (ca_usage, True),
        (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False),
    )
    alt_names = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names]
    cert = certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]),
        key.public_key(),
        (x509.SubjectAlternativeName(alt_names), False),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
    )
    ca_path, chain_path = directory / "ca.pem", directory / "server.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    chain_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + private)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain_path)
    return TlsFiles(ca_path, context)


# What the scripted Paddle answers unless a test says otherwise: one session, the same object for every test.
SESSION = portal_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))
OK = Reply.json(201, SESSION)
