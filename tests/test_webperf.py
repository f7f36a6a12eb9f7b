"""Page weight on the wire (issue #15): gzip through the WSGI stack, versioned static URLs
with a year-long cache."""

from __future__ import annotations

import gzip
import re
import zlib
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

from ppm.schedule import views as schedule_views
from tests.conftest import SessionClient

GZIP = {"Accept-Encoding": "gzip, deflate, br"}
# The CSRF token is signed with the time: two requests a second apart differ only there.
TOKEN = re.compile(rb'content="[^"]+"|"X-CSRFToken": "[^"]+"|name="csrf_token" value="[^"]+"')


def _project_with_tasks(make: Any, owner: Any, count: int) -> str:
    project_id = make.project(owner)
    for n in range(count):
        make.task(owner, project_id, name=f"Task number {n}")
    return project_id


def test_big_pages_are_gzipped_when_the_client_accepts_it(session_client: SessionClient, make: Any) -> None:
    project_id = _project_with_tasks(make, session_client.user, 12)
    url = f"/projects/{project_id}/schedule"
    plain = session_client.get(url)
    assert plain.headers.get("Content-Encoding") is None
    assert "Accept-Encoding" in plain.headers["Vary"] and "Cookie" in plain.headers["Vary"]
    packed = session_client.get(url, headers=GZIP)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Content-Length" not in packed.headers  # streamed: head first (below)
    assert len(packed.data) < len(plain.data) / 3
    assert "Accept-Encoding" in packed.headers["Vary"] and "Cookie" in packed.headers["Vary"]
    # The same page, byte for byte, apart from the per-request CSRF token.
    assert TOKEN.sub(b"", gzip.decompress(packed.data)) == TOKEN.sub(b"", plain.data)
    # JSON too.
    api = session_client.get(f"/api/v1/projects/{project_id}/tasks/", headers=GZIP)
    assert api.headers["Content-Encoding"] == "gzip" and len(gzip.decompress(api.data)) > 1024


def _parts(response: Any) -> list[bytes]:
    """The body as the server sent it, part by part (the client did not buffer it)."""
    try:
        return [part for part in response.response if part]
    finally:
        response.close()


def test_the_schedule_page_sends_its_head_before_building_its_rows(session_client: SessionClient, make: Any) -> None:
    """The browser fetches the styles and paints the header while the rows are built (#15)."""
    project_id = _project_with_tasks(make, session_client.user, 12)
    url = f"/projects/{project_id}/schedule"
    first, *rest = _parts(session_client.client.get(url, buffered=False))
    assert first.rstrip().endswith(b'<main id="main" tabindex="-1">') and b"stylesheet" in first
    assert b"Task number" not in first and b"Task number 11" in b"".join(rest)
    assert b"".join(rest).rstrip().endswith(b"</html>")
    # Gzipped, the head is flushed whole in its own part: a browser can read it at once.
    packed = _parts(session_client.client.get(url, headers=GZIP, buffered=False))
    unpacker = zlib.decompressobj(31)
    assert TOKEN.sub(b"", unpacker.decompress(packed[0])) == TOKEN.sub(b"", first)
    assert b"Task number 11" in unpacker.decompress(b"".join(packed[1:])) and unpacker.eof


@pytest.mark.parametrize(
    ("failure", "sentence", "logged"),
    [
        (RuntimeError("a bug in the rows"), "Reload the page to try again", "failed after its head was sent"),
        (
            OperationalError("SELECT", {}, Exception("server closed the connection")),
            "ppm lost its database",
            "database unavailable while sending the schedule",
        ),
    ],
)
def test_a_schedule_that_fails_after_its_head_ends_with_a_sentence(
    app: Flask,
    session_client: SessionClient,
    make: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    failure: Exception,
    sentence: str,
    logged: str,
) -> None:
    project_id = _project_with_tasks(make, session_client.user, 2)

    def broken(_project_id: str) -> Any:
        raise failure

    monkeypatch.setattr(schedule_views, "schedule_rows", broken)
    monkeypatch.setattr(app, "testing", False)  # under test the failure is raised, not rendered
    page = session_client.get(f"/projects/{project_id}/schedule")
    html = page.get_data(as_text=True)
    assert page.status_code == 200  # sent before the failure
    assert "The schedule could not be loaded" in html and sentence in html
    assert html.rstrip().endswith("</html>") and html.count("</main>") == 1
    assert "a bug in the rows" not in html and "server closed" not in html
    assert logged in caplog.text


def test_no_content_answers_stay_empty_and_unencoded(session_client: SessionClient, make: Any) -> None:
    """A 204 has no length because it has no body: it is not a stream to gzip."""
    project_id = make.project(session_client.user)
    task_id = make.task(session_client.user, project_id, name="Gone soon").id
    gone = session_client.api(
        "DELETE", f"/api/v1/projects/{project_id}/tasks/{task_id}/", headers={**GZIP, "Accept": "application/json"}
    )
    assert gone.status_code == 204, gone.get_data(as_text=True)
    assert gone.headers.get("Content-Encoding") is None and gone.data == b""


def test_small_refused_and_head_responses_are_left_alone(session_client: SessionClient, make: Any) -> None:
    project_id = make.project(session_client.user)
    small = session_client.get(f"/api/v1/projects/{project_id}/tasks/", headers=GZIP)
    assert small.headers.get("Content-Encoding") is None and small.get_json() == []
    refused = session_client.get("/projects/", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert refused.headers.get("Content-Encoding") is None
    head = session_client.client.head(f"/projects/{project_id}/schedule", headers=GZIP)
    assert head.headers.get("Content-Encoding") is None


def test_static_files_get_versioned_urls_cached_for_a_year(client: Any) -> None:
    html = client.get("/login").get_data(as_text=True)
    url = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', html)
    assert url is not None, html[:500]
    cached = client.get(url.group(1), headers=GZIP)
    assert cached.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert cached.headers["Content-Encoding"] == "gzip" and b"{" in gzip.decompress(cached.data)
    assert cached.headers["ETag"].startswith('W/"')  # not the same bytes as the plain file
    cached.close()
    # Without the version, or with an old one, the file is not pinned in caches.
    for stale in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        response = client.get(stale)
        assert "immutable" not in response.headers.get("Cache-Control", ""), stale
        response.close()
