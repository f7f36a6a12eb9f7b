"""Jobs fixtures: the real Redis the test command starts (emptied before and after each test),
RQ driven by `flask ppm worker --burst` in this process (so `responses` still stands in for
GitHub and GitLab), and the links' world of an owner, a member, a viewer and a stranger."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask

from tests.links.conftest import World, give_credential, net, provider, world  # noqa: F401 - fixtures
from tests.support.settings import TEST_REDIS_URL

# Modules that need the queue start with `pytestmark = needs_redis`.
needs_redis = [
    pytest.mark.redis,
    pytest.mark.skipif(not TEST_REDIS_URL, reason="needs the Redis server that scripts/test.sh starts"),
]


@pytest.fixture
def redis_conn() -> Iterator[redis.Redis]:
    """The test Redis, emptied before and after the test (its jobs, progress and pauses)."""
    conn = redis.Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def app_config(app_config: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    queue = None
    if TEST_REDIS_URL and request.node.get_closest_marker("redis"):
        request.getfixturevalue("redis_conn")
        queue = TEST_REDIS_URL
    return {
        **app_config,
        "REDIS_URL": queue,
        "INTEGRATION_ALLOWED_HOSTS": ["gitlab.example.org", "example.org", "ghe.example.com"],
    }


def run_worker(app: Flask) -> str:
    """`flask ppm worker --burst`: everything queued, in this process, then back."""
    result = app.test_cli_runner().invoke(args=["ppm", "worker", "--burst"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def refresh_all(client: Any, on: World, **body: Any) -> Any:
    return client.api("POST", f"/api/v1/projects/{on.project_id}/links/refresh/", json=body)


def job(client: Any, job_id: str) -> Any:
    return client.api("GET", f"/api/v1/jobs/{job_id}/")


def add_link(client: Any, on: World, url: str, task_id: str | None = None) -> dict[str, Any]:
    response = client.api("POST", on.links_url(task_id), json={"url": url})
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


__all__ = ["give_credential"]
