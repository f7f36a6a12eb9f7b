"""Automations fixtures: the webhook world (a project with every role, signed deliveries), the
network guard and `responses` for refreshes, and the real Redis for Refresh all and the sweep."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.links.conftest import net, provider  # noqa: F401 - fixtures
from tests.support.settings import TEST_REDIS_URL
from tests.webhooks.conftest import allow_egress, hooks  # noqa: F401 - fixtures

needs_redis = [
    pytest.mark.redis,
    pytest.mark.skipif(not TEST_REDIS_URL, reason="needs the Redis server that scripts/test.sh starts"),
]


@pytest.fixture
def redis_conn() -> Iterator[redis.Redis]:
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
        "LINK_REFRESH_INTERVAL": 900,
        "INTEGRATION_ALLOWED_HOSTS": ["gitlab.example.org", "example.org"],
    }
