"""10 credential writes a minute per user, shared by the API and the page (SPEC §5)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import SessionClient


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "RATELIMIT_ENABLED": True}


def test_eleventh_write_in_a_minute_is_429(session_client: SessionClient, app: Any, make: Any) -> None:
    for n in range(5):
        assert session_client.api("POST", "/api/v1/me/credentials/generic/", json={"token": f"t{n}"}).status_code == 200
        assert session_client.api("DELETE", "/api/v1/me/credentials/generic/").status_code == 204
    refused = session_client.api("POST", "/api/v1/me/credentials/generic/", json={"token": "t"})
    assert refused.status_code == 429
    assert refused.get_json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    # The page shares the same limit and says so in words, in the alert region.
    page = session_client.form(
        "/me/settings/connected-accounts/generic", {"token": "t"}, headers={"HX-Request": "true"}
    )
    assert page.status_code == 429
    assert page.headers["HX-Retarget"] == "#alert-region"
    assert "Too many requests" in page.get_data(as_text=True)
    # Reads are not limited, and another user has their own budget.
    assert session_client.api("GET", "/api/v1/me/credentials/").status_code == 200
    other = SessionClient(app.test_client(), make.user()).login()
    assert other.api("POST", "/api/v1/me/credentials/generic/", json={"token": "x"}).status_code == 200
