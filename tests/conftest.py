"""Shared fixtures: an app on a clean database per test (SQLite, or the real PostgreSQL server
named by PPM_TEST_DATABASE_URL), clients, factories and a query counter."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from werkzeug.security import generate_password_hash

from ppm import create_app
from ppm.auth import services as auth_services
from ppm.auth.models import User
from ppm.extensions import db
from tests.support.buffered_client import BufferedClient
from tests.support.settings import TEST_DATABASE_URL

PASSWORD = "correct horse battery"
TEST_KEY = Fernet.generate_key().decode()


def base_config(tmp_path: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "INTEGRATION_ENCRYPTION_KEY": TEST_KEY,
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or f"sqlite:///{tmp_path}/ppm.sqlite3",
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "WTF_CSRF_ENABLED": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt takes ~0.1 s a hash; tests are about behaviour, not the hash's cost."""
    monkeypatch.setattr(
        auth_services, "generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1000")
    )


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[None]:
    """On PostgreSQL the schema is made once; each test then truncates."""
    if TEST_DATABASE_URL:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL,
                "TESTING": True,
                "SECRET_KEY": "x",
                "INTEGRATION_ENCRYPTION_KEY": TEST_KEY,
            }
        )
        with app.app_context():
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.create_all()
    yield


def _truncate_all() -> None:
    db.session.remove()
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def app_config(tmp_path: Any) -> dict[str, Any]:
    """Override in a test module to change settings before the app is built."""
    return base_config(tmp_path)


@pytest.fixture
def app(app_config: dict[str, Any], _postgres_schema: None, tmp_path: Any) -> Iterator[Flask]:
    application = create_app(app_config)
    application.test_client_class = BufferedClient
    with application.app_context():
        if TEST_DATABASE_URL:
            _truncate_all()
        else:
            db.create_all()
        yield application
        db.session.remove()
        if TEST_DATABASE_URL:
            _truncate_all()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- factories -------------------------------------------------------------------------


class Factory:
    def __init__(self) -> None:
        self.count = 0

    def user(self, email: str | None = None, name: str | None = None, password: str = PASSWORD) -> User:
        self.count += 1
        return auth_services.create_user(
            email or f"user{self.count}@example.com", name or f"User {self.count}", password
        )

    def project(self, owner: User, name: str = "Apollo", **members: str) -> str:
        from ppm.projects import services

        access = services.create_project(owner, {"name": name})
        return access.project.id

    def member(self, owner: User, project_id: str, role: str = "member", user: User | None = None) -> User:
        from ppm.projects import services

        user = user or self.user()
        services.add_member(owner, project_id, {"email": user.email, "role": role})
        return user

    def task(self, owner: User, project_id: str, **fields: Any) -> Any:
        from ppm.projects import services

        fields.setdefault("name", f"Task {self.count}")
        self.count += 1
        return services.create_task(owner, project_id, fields)


@pytest.fixture
def make(app: Flask) -> Factory:
    return Factory()


# --- clients --------------------------------------------------------------------------

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class SessionClient:
    """A logged-in browser-like client that sends the CSRF token as a browser would."""

    def __init__(self, client: FlaskClient, user: User) -> None:
        self.client = client
        self.user = user
        self.csrf = ""

    def login(self, password: str = PASSWORD) -> SessionClient:
        page = self.client.get("/login")
        token = CSRF_META.search(page.get_data(as_text=True))
        assert token
        response = self.client.post(
            "/login", data={"email": self.user.email, "password": password, "csrf_token": token.group(1)}
        )
        assert response.status_code == 303, response.get_data(as_text=True)
        self.refresh_csrf()
        return self

    def refresh_csrf(self) -> str:
        page = self.client.get("/projects/")
        found = CSRF_META.search(page.get_data(as_text=True))
        assert found
        self.csrf = found.group(1)
        return self.csrf

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def form(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)

    def api(self, method: str, url: str, json: Any = None, **kwargs: Any) -> Any:
        headers = {"X-CSRFToken": self.csrf, **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, json=json, headers=headers, **kwargs)


class TokenClient:
    """A script: every request carries `Authorization: Bearer`."""

    def __init__(self, client: FlaskClient, user: User, token: str) -> None:
        self.client, self.user, self.token = client, user, token

    def api(self, method: str, url: str, json: Any = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, json=json, headers=headers, **kwargs)


@pytest.fixture
def user(make: Factory) -> User:
    return make.user(email="owner@example.com", name="Olive Owner")


@pytest.fixture
def session_client(app: Flask, user: User) -> SessionClient:
    return SessionClient(app.test_client(), user).login()


@pytest.fixture
def api_client(app: Flask, user: User) -> TokenClient:
    _, token = auth_services.create_api_token(user, "tests")
    return TokenClient(app.test_client(), user, token)


def client_for(app: Flask, user: User) -> TokenClient:
    _, token = auth_services.create_api_token(user, "tests")
    return TokenClient(app.test_client(), user, token)


# --- query counting -------------------------------------------------------------------


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Any:
    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            # SQLite's BEGIN is ours to send (ppm.sqlite_locking); PostgreSQL's driver sends
            # its own unseen. Counted on neither, so both databases count the same queries.
            if not statement.startswith("BEGIN"):
                counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting
