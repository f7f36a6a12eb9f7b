"""Page weight on the wire (issue #15): gzip through the WSGI stack, versioned static URLs
with a year-long cache."""

from __future__ import annotations

import gzip
import re
from typing import Any

from tests.conftest import SessionClient

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


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
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data) / 3
    assert "Accept-Encoding" in packed.headers["Vary"] and "Cookie" in packed.headers["Vary"]
    # The same page, byte for byte, apart from the per-request CSRF token.
    token = re.compile(rb'content="[^"]+"|"X-CSRFToken": "[^"]+"|name="csrf_token" value="[^"]+"')
    assert token.sub(b"", gzip.decompress(packed.data)) == token.sub(b"", plain.data)
    # JSON too.
    api = session_client.get(f"/api/v1/projects/{project_id}/tasks/", headers=GZIP)
    assert api.headers["Content-Encoding"] == "gzip" and len(gzip.decompress(api.data)) > 1024


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
