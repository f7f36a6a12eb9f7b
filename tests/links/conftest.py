"""Links fixtures: a project with an owner, a member and a viewer, a task, the network guard
and `responses` standing in for GitHub and GitLab."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import responses

from ppm import crypto
from ppm.auth.models import User
from ppm.extensions import db
from ppm.integrations.models import Credential
from tests.conftest import Factory, TokenClient, client_for
from tests.support.netguard import NetGuard, installed_netguard

PUBLIC_NAMES = [
    "api.github.com",
    "github.com",
    "gitlab.com",
    "gitlab.example.org",
    "example.org",
    "ghe.example.com",
    "git.example.net",
    "drive.google.com",
]


@pytest.fixture(autouse=True)
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    with installed_netguard(monkeypatch) as guard:
        for name in PUBLIC_NAMES:
            guard.resolver.add(name, "140.82.112.5")
        guard.resolver.add("private.example.org", "10.9.8.7")
        yield guard


@pytest.fixture
def provider() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **app_config,
        "INTEGRATION_ALLOWED_HOSTS": ["gitlab.example.org", "example.org", "ghe.example.com", "private.example.org"],
    }


@dataclass
class World:
    project_id: str
    task_id: str
    owner: TokenClient
    member: TokenClient
    viewer: TokenClient
    stranger: TokenClient

    def links_url(self, task_id: str | None = None) -> str:
        return f"/api/v1/projects/{self.project_id}/tasks/{task_id or self.task_id}/links/"


@pytest.fixture
def world(app: Any, make: Factory) -> World:
    owner = make.user(email="owner@example.com", name="Olive Owner")
    project_id = make.project(owner, "Apollo")
    member = make.member(owner, project_id, "member")
    viewer = make.member(owner, project_id, "viewer")
    stranger = make.user()
    task = make.task(owner, project_id, name="Ship it")
    return World(
        project_id,
        task.id,
        client_for(app, owner),
        client_for(app, member),
        client_for(app, viewer),
        client_for(app, stranger),
    )


def give_credential(user: User, provider: str, token: str = "tok-123", base_url: str = "") -> Credential:
    credential = Credential(
        user_id=user.id, provider=provider, ciphertext=crypto.encrypt(token), base_url=base_url, account_login="me"
    )
    db.session.add(credential)
    db.session.commit()
    return credential


def add(client: TokenClient, world: World, url: str, **extra: Any) -> Any:
    return client.api("POST", world.links_url(), json={"url": url, **extra})
