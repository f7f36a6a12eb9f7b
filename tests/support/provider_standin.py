"""A GitHub Enterprise stand-in on 127.0.0.1 for tests and benchmarks that run real worker
processes (where `responses` cannot reach): it answers `GET /api/v3/repos/{o}/{r}/pulls/{n}`
after a fixed delay, with an ETag, answers 304 to a matching If-None-Match, and counts calls,
conditional calls and the peak number of calls in flight at once.

Reach it through ppm's egress guard by allow-listing its host name (`localhost`) in
EGRESS_ALLOWLISTED_HOSTS and INTEGRATION_ALLOWED_HOSTS, with INTEGRATION_ALLOW_HTTP on, and a
github credential whose base_url is `http://localhost:<port>`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ProviderStandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, delay: float = 0.05) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.calls = 0
        self.conditional = 0
        self.not_modified = 0
        self.by_path: Counter[str] = Counter()

    @property
    def base_url(self) -> str:
        return f"http://localhost:{self.server_address[1]}"

    def reset_counts(self) -> None:
        with self.lock:
            self.peak = self.calls = self.conditional = self.not_modified = 0
            self.by_path.clear()


class _Handler(BaseHTTPRequestHandler):
    server: ProviderStandIn
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        server = self.server
        with server.lock:
            server.in_flight += 1
            server.peak = max(server.peak, server.in_flight)
            server.calls += 1
            server.by_path[self.path] += 1
        try:
            time.sleep(server.delay)
            number = self.path.rstrip("/").rsplit("/", 1)[-1]
            etag = f'"pr-{number}-v1"'
            if self.headers.get("If-None-Match"):
                with server.lock:
                    server.conditional += 1
            if self.headers.get("If-None-Match") == etag:
                with server.lock:
                    server.not_modified += 1
                self._send(304, b"", etag)
                return
            # The fields ppm reads, as GitHub's "Get a pull request" example shows them.
            body = json.dumps({"number": int(number or 0), "state": "closed", "merged": True, "draft": False,
                               "title": f"Pull request {number}"}).encode()  # fmt: skip
            self._send(200, body, etag)
        finally:
            with server.lock:
                server.in_flight -= 1

    def _send(self, status: int, body: bytes, etag: str) -> None:
        self.send_response(status)
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def running_standin(delay: float = 0.05) -> Iterator[ProviderStandIn]:
    server = ProviderStandIn(delay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
