"""Rate limits answer 429 with Retry-After, and with Redis storage they hold across processes."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from ppm import create_app
from tests.conftest import TEST_KEY
from tests.support.settings import TEST_DATABASE_URL, TEST_REDIS_URL

LOGIN_LIMIT = 20


def _app(tmp_path: Path, storage: str) -> Any:
    from ppm.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or f"sqlite:///{tmp_path}/r.db",
            "SECRET_KEY": "s",
            "INTEGRATION_ENCRYPTION_KEY": TEST_KEY,
            "TESTING": True,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": storage,
            "WTF_CSRF_ENABLED": False,
            "INSTANCE_PATH": str(tmp_path / "i"),
        }
    )
    with app.app_context():
        db.create_all()
    return app


_GUESSES = itertools.count()


def _attempt(app: Any) -> Any:
    """A failed login for a different account each time: only the per-address limit applies."""
    email = f"guess{next(_GUESSES)}@example.com"
    return app.test_client().post("/login", data={"email": email, "password": "nope"})


def test_login_attempts_are_limited_with_retry_after(tmp_path: Path) -> None:
    app = _app(tmp_path, "memory://")
    statuses = [_attempt(app).status_code for _ in range(LOGIN_LIMIT)]
    assert statuses == [422] * LOGIN_LIMIT
    blocked = _attempt(app)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Too many requests" in blocked.get_data(as_text=True)


def test_one_account_is_limited_whatever_the_address(tmp_path: Path) -> None:
    app = _app(tmp_path, "memory://")
    for n in range(10):
        response = app.test_client().post(
            "/login",
            data={"email": "Target@example.com", "password": f"p{n}"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
        )
        assert response.status_code == 422
    blocked = app.test_client().post(
        "/login", data={"email": "target@example.com", "password": "x"}, environ_base={"REMOTE_ADDR": "203.0.113.99"}
    )
    assert blocked.status_code == 429
    other = app.test_client().post(
        "/login", data={"email": "someone@example.com", "password": "x"}, environ_base={"REMOTE_ADDR": "203.0.113.99"}
    )
    assert other.status_code == 422  # another account from the same address is not locked out


def test_forwarded_addresses_count_only_behind_a_configured_proxy(tmp_path: Path) -> None:
    from ppm import create_app as build

    app = build(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db",
            "SECRET_KEY": "s",
            "INTEGRATION_ENCRYPTION_KEY": TEST_KEY,
            "RATELIMIT_ENABLED": True,
            "PROXY_HOPS": 1,
            "WTF_CSRF_ENABLED": False,
            "INSTANCE_PATH": str(tmp_path / "i"),
        }
    )
    from ppm.extensions import db

    with app.app_context():
        db.create_all()
    for n in range(LOGIN_LIMIT):
        response = app.test_client().post(
            "/login", data={"email": f"a{n}@example.com", "password": "x"}, headers={"X-Forwarded-For": "198.51.100.1"}
        )
        assert response.status_code == 422
    assert (
        app.test_client()
        .post("/login", data={"email": "b@example.com", "password": "x"}, headers={"X-Forwarded-For": "198.51.100.1"})
        .status_code
        == 429
    )
    # Another client behind the same proxy keeps its own budget.
    assert (
        app.test_client()
        .post("/login", data={"email": "c@example.com", "password": "x"}, headers={"X-Forwarded-For": "198.51.100.2"})
        .status_code
        == 422
    )


@pytest.mark.redis
@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs the Redis server that scripts/test.sh starts")
def test_limits_are_shared_between_app_processes_through_redis(tmp_path: Path) -> None:
    import redis

    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    first = _app(tmp_path, TEST_REDIS_URL)
    second = _app(tmp_path, TEST_REDIS_URL)  # a second worker: its own memory, same Redis
    for index in range(LOGIN_LIMIT):
        app = first if index % 2 else second
        assert _attempt(app).status_code == 422
    assert _attempt(first).status_code == 429
    assert _attempt(second).status_code == 429
