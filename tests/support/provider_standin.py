"""A GitHub Enterprise stand-in on 127.0.0.1 for tests and benchmarks that run real worker
processes (where `responses` cannot reach): it answers `GET /api/v3/repos/{o}/{r}/pulls/{n}`
and that pull request's reviews (SPEC §15: none, or `reviews` approvals) after a fixed delay, with
an ETag, answers 304 to a matching If-None-Match, and counts calls, conditional calls and the peak
number of calls in flight at once. Reviews are served page by page as GitHub documents it
(`per_page`, default 30, at most 100; a `Link` header naming the next and last pages, SPEC §26:
`tests.support.paging`).

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
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.paging import github_page


class ProviderStandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, delay: float = 0.05, reviews: int = 0, last_review: str = "APPROVED") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay = delay
        self.reviews = reviews
        self.last_review = last_review
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
            status, body, etag, headers = self._answer()
        finally:
            # The call ends once its answer is ready: counted down before it is sent, so the
            # caller's next call (sent the moment this answer arrives) never overlaps it here.
            with server.lock:
                server.in_flight -= 1
        self._send(status, body, etag, headers)

    def _answer(self) -> tuple[int, bytes, str, dict[str, str]]:
        server = self.server
        path = urlsplit(self.path).path.rstrip("/")
        reviews = path.endswith("/reviews")
        number = path.removesuffix("/reviews").rsplit("/", 1)[-1]
        page = dict(parse_qsl(urlsplit(self.path).query)).get("page", "1")
        etag = f'"pr-{number}-{f"reviews-{page}" if reviews else "pull"}-v1"'
        if self.headers.get("If-None-Match"):
            with server.lock:
                server.conditional += 1
        if self.headers.get("If-None-Match") == etag:
            with server.lock:
                server.not_modified += 1
            return 304, b"", etag, {}
        if reviews:  # SPEC §15's reviews call ("List reviews": an array), one page of it
            items, headers = github_page(_reviews(server.reviews, server.last_review), self._absolute())
            return 200, json.dumps(items).encode(), etag, headers
        # The fields ppm reads, as GitHub's "Get a pull request" example shows them.
        body = json.dumps({"number": int(number) if number.isdigit() else 0, "state": "closed", "merged": True,
                           "draft": False, "title": f"Pull request {number}"}).encode()  # fmt: skip
        return 200, body, etag, {}

    def _absolute(self) -> str:
        """The address asked for, on the host it was asked of (GitHub's links name its own host)."""
        return f"http://{self.headers.get('Host') or self.server.base_url.removeprefix('http://')}{self.path}"

    def _send(self, status: int, body: bytes, etag: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("ETag", etag)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _reviews(count: int, last: str) -> list[dict[str, Any]]:
    """`count` reviews by different reviewers in the shape of GitHub's "List reviews" example:
    approvals, the last one in state `last`."""
    template = json.loads(_REVIEWS_EXAMPLE.read_text(encoding="utf-8"))[0]
    reviews = [
        {**template, "id": n, "user": {**template["user"], "id": n}, "state": "APPROVED"} for n in range(1, count + 1)
    ]
    if reviews:
        reviews[-1]["state"] = last
    return reviews


_REVIEWS_EXAMPLE = (
    Path(__file__).parents[1] / "integrations" / "data" / "github_openapi" / "pull-request-review-items.json"
)


@contextmanager
def running_standin(delay: float = 0.05, reviews: int = 0, last_review: str = "APPROVED") -> Iterator[ProviderStandIn]:
    server = ProviderStandIn(delay, reviews, last_review)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
