"""30 refreshes a minute per user → 429 with Retry-After (SPEC §6)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.links.conftest import World, add


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "RATELIMIT_ENABLED": True}


def test_thirty_first_refresh_is_429(world: World) -> None:
    link = add(world.member, world, "https://example.org/wiki").get_json()
    path = world.links_url() + f"{link['id']}/refresh/"
    for _ in range(30):
        assert world.viewer.api("POST", path).status_code == 200
    refused = world.viewer.api("POST", path)
    assert refused.status_code == 429 and refused.get_json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    assert world.member.api("POST", path).status_code == 200  # per user
