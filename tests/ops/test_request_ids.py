"""Every response carries `X-Request-ID` (the caller's when sane, else a new one), and the log
lines written while answering that request carry the same id."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from flask import Flask, request

from ppm.request_id import log_handler
from tests.conftest import SessionClient


@pytest.fixture
def ppm_log() -> Iterator[io.StringIO]:
    """What the app logs, through the same filter and format as the handler ppm installs."""
    stream = io.StringIO()
    handler = log_handler(stream)
    logger = logging.getLogger("ppm")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


@pytest.mark.parametrize("path", ["/healthz", "/login", "/no-such-page", "/api/v1/projects/", "/api/v1/nope"])
def test_every_response_has_a_generated_id(app: Flask, path: str) -> None:
    first = app.test_client().get(path).headers.get("X-Request-ID")
    second = app.test_client().get(path).headers.get("X-Request-ID")
    assert first and second and first != second
    assert len(first) == 32 and first.isalnum()


def test_a_sane_incoming_id_is_kept(app: Flask) -> None:
    response = app.test_client().get("/login", headers={"X-Request-ID": "lb-7f3a.2026:req_42@edge"})
    assert response.headers["X-Request-ID"] == "lb-7f3a.2026:req_42@edge"


@pytest.mark.parametrize(
    "incoming",
    ["", "x" * 129, "has space", "new\\nline", "semi;colon", "<script>", "ümlaut", "a,b"],
)
def test_an_unsafe_or_overlong_id_is_replaced(app: Flask, incoming: str) -> None:
    response = app.test_client().get("/login", headers={"X-Request-ID": incoming})
    returned = response.headers["X-Request-ID"]
    assert returned != incoming
    assert len(returned) == 32 and returned.isalnum()


def test_redirects_and_errors_carry_the_id_too(app: Flask, session_client: SessionClient) -> None:
    anonymous = app.test_client().get("/projects/", headers={"X-Request-ID": "anon-1"})
    assert anonymous.status_code == 302
    assert anonymous.headers["X-Request-ID"] == "anon-1"
    missing_csrf = session_client.client.post("/projects/", data={"name": "x"}, headers={"X-Request-ID": "csrf-1"})
    assert missing_csrf.status_code == 400
    assert missing_csrf.headers["X-Request-ID"] == "csrf-1"
    assert missing_csrf.headers.getlist("X-Request-ID") == ["csrf-1"]  # exactly one


def test_the_log_lines_of_a_request_carry_its_id(app: Flask, ppm_log: io.StringIO) -> None:
    @app.get("/__log_twice")
    def log_twice() -> str:
        logging.getLogger("ppm.test").warning("first line")
        logging.getLogger("ppm.test").warning("second line")
        return "ok"

    from ppm.auth.guard import PUBLIC_ENDPOINTS

    PUBLIC_ENDPOINTS.add("log_twice")
    try:
        response = app.test_client().get("/__log_twice", headers={"X-Request-ID": "trace-me-1"})
        other = app.test_client().get("/__log_twice")
    finally:
        PUBLIC_ENDPOINTS.discard("log_twice")
    lines = ppm_log.getvalue().splitlines()
    assert response.headers["X-Request-ID"] == "trace-me-1"
    assert [line for line in lines if "[trace-me-1]" in line and "line" in line] == lines[:2]
    assert all(f"[{other.headers['X-Request-ID']}]" in line for line in lines[2:4])
    logging.getLogger("ppm.test").warning("outside any request")
    assert ppm_log.getvalue().splitlines()[-1].split(" [", 1)[1].startswith("-]")


def test_request_derived_strings_cannot_forge_log_lines(app: Flask, ppm_log: io.StringIO) -> None:
    """SPEC §27: a path carrying CR, LF or other control characters stays on its one log line."""

    def boom() -> None:
        if request.path.startswith("/boom/"):
            raise RuntimeError("kaboom")

    app.before_request_funcs.setdefault(None, []).insert(0, boom)
    forged = "x\r\n2026-01-01 00:00:00,000 WARNING ppm.auth [-] admin logged in\x1b[2J"
    response = app.test_client().get("/boom/" + forged.replace("\r", "%0D").replace("\n", "%0A").replace("\x1b", "%1B"))
    assert response.status_code == 500
    lines = [line for line in ppm_log.getvalue().splitlines() if "unhandled error" in line]
    assert len(lines) == 1, ppm_log.getvalue()
    assert "x\\r\\n2026-01-01" in lines[0] and "\\x1b[2J" in lines[0]
    assert not any(
        line.startswith("2026-01-01 00:00:00,000 WARNING ppm.auth") for line in ppm_log.getvalue().splitlines()
    )
