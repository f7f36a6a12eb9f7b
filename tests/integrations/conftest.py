"""Connected-accounts fixtures: the network guard (no packet leaves loopback), `responses`
standing in for GitHub and GitLab, and a session client with the CSRF token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses

from tests.support.netguard import NetGuard, installed_netguard

GITHUB_API = "https://api.github.com"
GITLAB_API = "https://gitlab.com/api/v4"
PUBLIC = "140.82.112.5"
NAMES = {
    "api.github.com": PUBLIC,
    "github.com": PUBLIC,
    "gitlab.com": "151.101.1.69",
    "ghe.example.com": "93.184.216.34",
    "gitlab.example.org": "93.184.216.34",
    "example.org": "93.184.216.34",
    "git.example.net": "93.184.216.34",
}


@pytest.fixture(autouse=True)
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    with installed_netguard(monkeypatch, {**NAMES, "intranet.example.com": "10.1.2.3"}) as guard:
        yield guard


@pytest.fixture
def provider_mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **app_config,
        "INTEGRATION_ALLOWED_HOSTS": ["ghe.example.com", "gitlab.example.org", "example.org", "intranet.example.com"],
    }


def github_user(
    mock: responses.RequestsMock,
    *,
    login: str = "octocat",
    status: int = 200,
    scopes: str | None = "repo, read:org",
    expiry: str | None = None,
    api: str = GITHUB_API,
) -> None:
    headers = {}
    if scopes is not None:
        headers["X-OAuth-Scopes"] = scopes
    if expiry is not None:
        headers["GitHub-Authentication-Token-Expiration"] = expiry
    body: dict[str, Any] = {"login": login} if status == 200 else {"message": "Bad credentials"}
    mock.get(f"{api}/user", json=body, status=status, headers=headers)


def gitlab_user(
    mock: responses.RequestsMock,
    *,
    username: str = "tanuki",
    scopes: list[str] | None = None,
    expires_at: str | None = "2099-01-31",
    api: str = GITLAB_API,
    status: int = 200,
) -> None:
    mock.get(f"{api}/user", json={"username": username} if status == 200 else {"message": "401"}, status=status)
    mock.get(
        f"{api}/personal_access_tokens/self",
        json={"scopes": scopes if scopes is not None else ["read_api"], "expires_at": expires_at, "active": True},
    )
