"""The refresh limit holds across app processes: two gunicorn workers sharing a real Redis."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ppm import create_app
from ppm.auth import services as auth
from ppm.extensions import db
from ppm.links import services as links
from ppm.projects import services as projects
from tests.conftest import TEST_KEY
from tests.support.settings import TEST_DATABASE_URL, TEST_REDIS_URL

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not TEST_REDIS_URL, reason="needs the Redis server that scripts/test.sh starts"),
]


@pytest.fixture(autouse=True)
def net() -> None:
    """This test talks to its own gunicorn on 127.0.0.1 over real sockets; no stub needed."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    import redis

    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    uri = TEST_DATABASE_URL or f"sqlite:///{tmp_path}/gunicorn.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": uri,
        "SECRET_KEY": "gunicorn-test",
        "INTEGRATION_ENCRYPTION_KEY": TEST_KEY,
        "RATELIMIT_STORAGE_URI": TEST_REDIS_URL,
        "PPM_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": "s",
            "INTEGRATION_ENCRYPTION_KEY": TEST_KEY,
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    with app.app_context():
        if not TEST_DATABASE_URL:
            db.create_all()
        user = auth.create_user("gunicorn@example.com", "G Unicorn", "pw-secret-1")
        _, token = auth.create_api_token(user)
        project_id = projects.create_project(user, {"name": "Shared limits"}).project.id
        task = projects.create_task(user, project_id, {"name": "T"})
        link = links.add_link(user, project_id, task.id, {"url": "https://example.org/wiki"})
        path = f"/api/v1/projects/{project_id}/tasks/{task.id}/links/{link.id}/refresh/"
        db.session.remove()
        db.engine.dispose()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        yield base, path, token
    finally:
        server.terminate()
        server.wait(timeout=20)


def _wait_until_up(base: str, server: Any) -> None:
    for _ in range(150):
        if server.poll() is not None:
            raise AssertionError(server.stderr.read().decode())
        try:
            urllib.request.urlopen(base + "/login", timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):  # a worker still importing the app
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start")


def _refresh(base: str, path: str, token: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    request = urllib.request.Request(
        base + path, method="POST", headers={"Authorization": f"Bearer {token}", "Connection": "close"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def test_two_workers_share_the_refresh_limit(served: tuple[str, str, str]) -> None:
    base, path, token = served
    statuses = [_refresh(base, path, token)[0] for _ in range(30)]
    assert statuses == [200] * 30
    status, body, headers = _refresh(base, path, token)
    assert status == 429 and body["code"] == "rate_limited" and int(headers["Retry-After"]) > 0
