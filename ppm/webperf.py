"""Page weight on the wire (issue #15): gzip for text responses, and versioned static URLs that
browsers may keep for a year.

- `GzipMiddleware` wraps the WSGI app: a response of a text type whose length is known and at
  least MIN_SIZE bytes is gzipped when the client accepts it (a 5,000-task schedule page shrinks
  about ten times). A response streamed in parts (no length: the schedule page sends its head
  first) is gzipped part by part, each part flushed as it comes, so nothing meant to flow is held
  back.
- `url_for('static', …)` adds `v=<content hash>`; a static file asked for with its current hash
  is answered `Cache-Control: public, max-age=31536000, immutable` (a changed file gets a new
  URL). Without `v`, or with a stale one, the usual short revalidating cache applies.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

MIN_SIZE = 1024
MAX_SIZE = 32 * 1024 * 1024  # larger bodies pass through rather than sit in memory twice
LEVEL = 6
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml")
YEAR = 365 * 24 * 3600

StartResponse = Callable[..., Any]


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    name = name.lower()
    return next((value for key, value in headers if key.lower() == name), None)


def _accepts_gzip(environ: dict[str, Any]) -> bool:
    for part in environ.get("HTTP_ACCEPT_ENCODING", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class GzipMiddleware:
    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "HEAD":
            return self.app(environ, start_response)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            captured.update(status=status, headers=headers, exc_info=exc_info)
            return lambda _data: None  # the app's write() is not used by Flask

        body = self.app(environ, capture)
        status, headers = captured["status"], list(captured["headers"])
        if self._streamed(status, headers):
            headers = [(k, v) for k, v in headers if k.lower() != "vary"] + [("Vary", self._vary(headers))]
            if not _accepts_gzip(environ):
                start_response(status, headers, captured["exc_info"])
                return body
            start_response(status, [*headers, ("Content-Encoding", "gzip")], captured["exc_info"])
            return _gzip_parts(body)
        if not self._worth_it(headers):
            start_response(status, headers, captured["exc_info"])
            return body
        headers = [(k, v) for k, v in headers if k.lower() != "vary"] + [("Vary", self._vary(headers))]
        if not _accepts_gzip(environ):
            start_response(status, headers, captured["exc_info"])
            return body
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        packed = gzip.compress(data, compresslevel=LEVEL, mtime=0)
        # Another encoding of the same content: a strong validator would claim identical bytes.
        headers = [(k, "W/" + v if k.lower() == "etag" and not v.startswith("W/") else v) for k, v in headers]
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(packed)))]
        start_response(status, headers, captured["exc_info"])
        return [packed]

    @staticmethod
    def _streamed(status: str, headers: list[tuple[str, str]]) -> bool:
        """A page sent in parts; not a 204 or 304, which have no length because no body."""
        kind = (_header(headers, "Content-Type") or "").lower()
        return (
            status[:3] not in ("204", "304")
            and kind.startswith("text/html")
            and _header(headers, "Content-Length") is None
            and _header(headers, "Content-Encoding") is None
        )

    @staticmethod
    def _worth_it(headers: list[tuple[str, str]]) -> bool:
        kind = (_header(headers, "Content-Type") or "").lower()
        length = _header(headers, "Content-Length")
        return (
            kind.startswith(COMPRESSIBLE)
            and _header(headers, "Content-Encoding") is None
            and length is not None
            and length.isdigit()
            and MIN_SIZE <= int(length) <= MAX_SIZE
        )

    @staticmethod
    def _vary(headers: list[tuple[str, str]]) -> str:
        existing = [v.strip() for k, value in headers if k.lower() == "vary" for v in value.split(",") if v.strip()]
        if "accept-encoding" not in (v.lower() for v in existing):
            existing.append("Accept-Encoding")
        return ", ".join(existing)


def _gzip_parts(body: Iterable[bytes]) -> Iterator[bytes]:
    """One gzip stream over the parts; each is flushed whole so the browser can use it now."""
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, 31)  # 31: the gzip wrapper
    try:
        for part in body:
            if part:
                yield packer.compress(part) + packer.flush(zlib.Z_SYNC_FLUSH)
        yield packer.flush()
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


class StaticVersions:
    """Content hashes of static files, computed once per file and process."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder).resolve()
        self.cache: dict[str, str | None] = {}

    def __call__(self, filename: str) -> str | None:
        if filename not in self.cache:
            path = (self.folder / filename).resolve()
            inside = path.is_relative_to(self.folder) and path.is_file()
            self.cache[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if inside else None
        return self.cache[filename]


def init_web_performance(app: Flask) -> None:
    app.wsgi_app = GzipMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    versions = StaticVersions(app.static_folder or "static")

    @app.url_defaults
    def _static_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "v" not in values:
            version = versions(str(values.get("filename", "")))
            if version:
                values["v"] = version

    @app.after_request
    def _cache_versioned_static(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code == 200:
            filename = (request.view_args or {}).get("filename", "")
            version = request.args.get("v")
            if version and version == versions(str(filename)):
                response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        return response
