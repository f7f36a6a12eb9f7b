"""Small scripted TCP/TLS servers on loopback for the egress tests.

Each server runs an accept loop in a daemon thread and hands every connection to a handler
``handler(conn, server)``. Handlers write raw HTTP so a test can misbehave on purpose (drip,
stay silent, lie about sizes, reset).
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

Handler = Callable[[socket.socket, "Server"], None]


class Server:
    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.handler = handler
        self.tls = tls
        self.hits = 0  # connections accepted
        self.requests: list[bytes] = []  # requests received (head and first bytes)
        self.bodies: list[bytes] = []  # request bodies received
        self.sni: list[str | None] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, port))
        self.listener.listen(64)
        self.listener.settimeout(0.05)
        self.host, self.port = self.listener.getsockname()[:2]
        if tls is not None:
            tls.sni_callback = self._on_sni
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _on_sni(self, _sock: Any, name: str | None, _ctx: Any) -> None:
        self.sni.append(name)

    def _accept_loop(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.hits += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            self.handler(conn, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def read_head(self, conn: socket.socket) -> bytes:
        """Read one request (head, and a Content-Length body if any); record and return it."""
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = _content_length(head)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        with self._lock:
            self.requests.append(data)
            self.bodies.append(body)
        return data

    def idle(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; True while it should go on."""
        return not self.stop.wait(seconds)

    def close(self) -> None:
        self.stop.set()
        with contextlib.suppress(OSError):
            self.listener.close()
        self._thread.join(2)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}/"


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value)
    return 0


def http_response(
    status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None, *, length: bool = True
) -> bytes:
    head = [f"HTTP/1.1 {status} X"]
    all_headers = {"Content-Type": "application/octet-stream", "Connection": "close", **(headers or {})}
    if length and "Content-Length" not in all_headers:
        all_headers["Content-Length"] = str(len(body))
    head += [f"{k}: {v}" for k, v in all_headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


# ---- handlers -------------------------------------------------------------------------------


def respond(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> Handler:
    def handler(conn: socket.socket, server: Server) -> None:
        server.read_head(conn)
        conn.sendall(http_response(status, body, headers))

    return handler


def drip_headers(interval: float = 0.1) -> Handler:
    """Status line, then one header byte per interval, forever."""

    def handler(conn: socket.socket, server: Server) -> None:
        server.read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
        while server.idle(interval):
            conn.sendall(b"a")

    return handler


def drip_body(interval: float = 0.1) -> Handler:
    """Complete headers promising 100 000 bytes, then one body byte per interval."""

    def handler(conn: socket.socket, server: Server) -> None:
        server.read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n")
        while server.idle(interval):
            conn.sendall(b"b")

    return handler


def silent() -> Handler:
    """Read the request (plain or after TLS) and never answer."""

    def handler(conn: socket.socket, server: Server) -> None:
        server.read_head(conn)
        while server.idle(0.05):
            pass

    return handler


def no_handshake() -> Handler:
    """Accept TCP and never speak (used with tls=None on a port the client dials as https)."""

    def handler(conn: socket.socket, server: Server) -> None:
        while server.idle(0.05):
            pass

    return handler


def close_delimited(total: int, chunk: int = 65536) -> Handler:
    """No Content-Length: the body runs until the connection closes."""

    def handler(conn: socket.socket, server: Server) -> None:
        server.read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        sent = 0
        while sent < total and not server.stop.is_set():
            conn.sendall(b"x" * min(chunk, total - sent))
            sent += chunk

    return handler


def lying_length(declared: int, actual: int) -> Handler:
    def handler(conn: socket.socket, server: Server) -> None:
        server.read_head(conn)
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
        conn.sendall(head.encode() + b"y" * actual)

    return handler


_BOMBS: dict[int, bytes] = {}


def gzip_bomb_bytes(decoded: int) -> bytes:
    if decoded not in _BOMBS:
        _BOMBS[decoded] = gzip.compress(b"\0" * decoded, compresslevel=9)
    return _BOMBS[decoded]


def gzip_bomb(decoded: int, *, with_length: bool) -> Handler:
    """A small gzip body that inflates to ``decoded`` bytes, sent though we asked for identity."""

    def handler(conn: socket.socket, server: Server) -> None:
        server.read_head(conn)
        body = gzip_bomb_bytes(decoded)
        headers = {"Content-Encoding": "gzip"}
        conn.sendall(http_response(200, body, headers, length=with_length))

    return handler


def reset() -> Handler:
    """Read the request, then abort the connection with a TCP RST."""

    def handler(conn: socket.socket, server: Server) -> None:
        server.read_head(conn)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return handler


@contextlib.contextmanager
def serving(handler: Handler, **kwargs: Any) -> Iterator[Server]:
    server = Server(handler, **kwargs)
    try:
        yield server
    finally:
        server.close()


def twin_servers(public: Handler, internal: Handler) -> tuple[Server, Server]:
    """A "public" stand-in on 127.0.0.1 and an "internal" target on 127.0.0.2, same port."""
    for _ in range(50):
        first = Server(public)
        try:
            second = Server(internal, host="127.0.0.2", port=first.port)
        except OSError:
            first.close()
            time.sleep(0.01)
            continue
        return first, second
    raise RuntimeError("could not bind the same port on 127.0.0.1 and 127.0.0.2")
