"""Request ids: every response carries `X-Request-ID`, and every log line of that request names it.

The id is taken from the incoming header when it is a sane value (so a proxy's or a client's id
follows the request through), else a new one is made. It is set in WSGI middleware, outside
Flask, so error pages, redirects and 404s carry it too.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, has_request_context, request

HEADER = "X-Request-ID"
ENVIRON_KEY = "ppm.request_id"
# Letters, digits and a few separators, at most 128 characters: safe in a header and a log line.
SANE_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

StartResponse = Callable[..., Any]


def request_id_from(incoming: str | None) -> str:
    """The caller's id when it is sane, else a fresh one (a mangled id would not correlate anyway)."""
    if incoming and SANE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives each request an id and adds it to the response headers, whatever answered."""

    def __init__(self, wsgi_app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        environ[ENVIRON_KEY] = request_id

        def start_with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(name, value) for name, value in headers if name.lower() != HEADER.lower()]
            headers.append((HEADER, request_id))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_with_id)


def current_request_id() -> str:
    if has_request_context():
        return str(request.environ.get(ENVIRON_KEY, "-"))
    return "-"


# CR, LF and every other control character (C0, DEL, C1, and the Unicode line and paragraph
# separators): a request's path, headers or ids in a log line could otherwise forge lines.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _escape_char(found: re.Match[str]) -> str:
    char = found.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def escape_controls(text: str) -> str:
    """`text` with its control characters written out (`\\r`, `\\n`, `\\x1b`): one log line
    stays one line whatever a request carried (SPEC §27). Idempotent."""
    return _CONTROL.sub(_escape_char, text)


class RequestIdFilter(logging.Filter):
    """Puts `request_id` on every record ("-" outside a request) so formatters can print it, and
    escapes control characters in the message (its arguments are often request-derived: a
    path, a header, an id). A traceback, added by the formatter, keeps its lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it as usual
            return True
        escaped = escape_controls(message)
        if escaped != message or record.args:
            record.msg, record.args = escaped, None
        return True


def log_handler(stream: Any = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    return handler


def _configure_logging() -> None:
    """One stderr handler on the root logger, unless the operator (or a test runner) set one up:
    gunicorn configures only its own loggers, so without this the app's lines would be lost."""
    root = logging.getLogger()
    if root.handlers:
        for handler in root.handlers:  # an operator's handler still learns the id
            if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
                handler.addFilter(RequestIdFilter())
        return
    root.addHandler(log_handler())
    if root.level == logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def init_request_ids(app: Flask) -> None:
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    _configure_logging()
