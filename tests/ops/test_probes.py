"""`/healthz` and `/readyz`: public, never rate-limited, and they name what is not ready without
revealing versions, revisions or hosts."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from ppm import create_app
from ppm.extensions import db
from tests.conftest import TEST_KEY, base_config
from tests.support.servers import free_port

CLOSED_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere"


def _app(tmp_path: Path, **overrides: Any) -> Flask:
    return create_app({**base_config(tmp_path), **overrides})


def test_healthz_answers_without_login_and_without_the_database(tmp_path: Path) -> None:
    app = _app(tmp_path, SQLALCHEMY_DATABASE_URI=CLOSED_DATABASE.format(port=free_port()))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_names_the_database_when_it_is_unreachable(tmp_path: Path) -> None:
    app = _app(tmp_path, SQLALCHEMY_DATABASE_URI=CLOSED_DATABASE.format(port=free_port()))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert "database" in body["failed"]
    assert body["checks"]["database"] == "unreachable"
    assert "127.0.0.1" not in response.get_data(as_text=True)  # nothing about where it lives


def test_readyz_says_migrations_are_pending_until_the_schema_is_at_head(app: Flask) -> None:
    # The suite's schema comes from create_all, which records no Alembic revision.
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["migrations"]
    assert response.get_json()["checks"]["database"] == "ok"


def test_readyz_is_ok_once_migrated_and_reveals_no_revision(tmp_path: Path, pass_database: str) -> None:
    app = _app(tmp_path, SQLALCHEMY_DATABASE_URI=pass_database)
    with app.app_context():
        upgrade()
        heads = {str(row[0]) for row in db.session.execute(db.text("SELECT version_num FROM alembic_version"))}
        db.session.remove()
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}
    assert not any(head in response.get_data(as_text=True) for head in heads)
    with app.app_context():
        db.engine.dispose()


def test_readyz_names_an_unreachable_rate_limit_redis(tmp_path: Path) -> None:
    app = _app(tmp_path, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0", RATELIMIT_ENABLED=True)
    with app.app_context():
        db.create_all()
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["rate_limit_storage"] == "unreachable"
    assert "rate_limit_storage" in response.get_json()["failed"]


def test_readyz_names_an_unreachable_queue_redis(tmp_path: Path) -> None:
    app = _app(tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = app.test_client().get("/readyz")
    assert response.get_json()["checks"]["redis"] == "unreachable"
    assert response.status_code == 503


def test_probes_are_never_rate_limited(tmp_path: Path) -> None:
    app = _app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="2 per minute")
    with app.app_context():
        db.create_all()
    client = app.test_client()
    assert {client.get("/healthz").status_code for _ in range(5)} == {200}
    assert 429 not in {client.get("/readyz").status_code for _ in range(5)}
    assert client.get("/login").status_code == 200
    assert client.get("/login").status_code == 200
    assert client.get("/login").status_code == 429  # the default limit is in force elsewhere


def test_probes_refuse_writes_and_reveal_no_secrets(tmp_path: Path) -> None:
    app = _app(tmp_path)
    client = app.test_client()
    assert client.post("/healthz").status_code == 405
    body = client.get("/readyz").get_data(as_text=True) + client.get("/healthz").get_data(as_text=True)
    assert TEST_KEY not in body
    assert "test-secret-key" not in body


def _dockerfile_healthcheck() -> list[str]:
    lines = (Path(__file__).resolve().parents[2] / "Dockerfile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("HEALTHCHECK"))
    command = " ".join(line.rstrip("\\").strip() for line in lines[start : start + 2])
    exec_form = json.loads(command.split(" CMD ", 1)[1])
    assert exec_form[0] == "python" and "urllib.request" in exec_form[2]  # the standard library, no curl
    return [sys.executable, *exec_form[1:]]


def test_the_dockerfile_healthcheck_passes_on_a_live_app_and_fails_without_one(app: Flask) -> None:
    command = _dockerfile_healthcheck()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        alive = [part.replace("127.0.0.1:8000", f"127.0.0.1:{server.server_port}") for part in command]
        assert subprocess.run(alive, capture_output=True, timeout=30).returncode == 0
    finally:
        server.shutdown()
    closed = [part.replace("127.0.0.1:8000", f"127.0.0.1:{free_port()}") for part in command]
    assert subprocess.run(closed, capture_output=True, timeout=30).returncode != 0
