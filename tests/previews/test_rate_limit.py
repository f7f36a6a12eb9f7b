"""Refreshing file links shares the per-user refresh limit with git links (SPEC §6, §7)."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from tests.previews.conftest import World, html_page, og


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "RATELIMIT_ENABLED": True}


def test_file_and_other_refreshes_share_thirty_a_minute(world: World, pages: responses.RequestsMock) -> None:
    url = "https://drive.google.com/file/d/abc/view"
    pages.add(responses.GET, url, body=html_page(og("og:title", "Plan")), content_type="text/html")
    drive = world.add(url)
    generic = world.add("https://example.com/spec")
    links = world.links_url
    for n in range(30):
        link = drive if n % 2 else generic
        assert world.member.api("POST", f"{links}{link['id']}/refresh/").status_code == 200
    calls = len(pages.calls)
    refused = world.member.api("POST", f"{links}{drive['id']}/refresh/")
    assert refused.status_code == 429 and refused.get_json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    assert len(pages.calls) == calls == 15  # the refused refresh made no outbound call
    # Another user has their own budget.
    assert world.viewer.api("POST", f"{links}{drive['id']}/refresh/").status_code == 200
