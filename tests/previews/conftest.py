"""Preview fixtures: the network guard with the four file hosts answering fake public
addresses (and one name on a claimed host answering a private one), `responses` standing in for
the share pages, and a project with a task whose links are added and refreshed through the API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import responses

from tests.conftest import Factory, TokenClient, client_for
from tests.support.netguard import NetGuard, installed_netguard

PUBLIC = "140.82.112.5"
FILE_HOSTS = [
    "drive.google.com",
    "docs.google.com",
    "dropbox.com",
    "www.dropbox.com",
    "box.com",
    "app.box.com",
    "acme.app.box.com",
    "onedrive.live.com",
    "1drv.ms",
    "acme.sharepoint.com",
    "acme-my.sharepoint.com",
]
PRIVATE_NAME = "files.intranet.box.com"  # a claimed host whose name resolves into 10/8
PRIVATE_IP = "10.20.30.40"


@pytest.fixture(autouse=True)
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    with installed_netguard(monkeypatch) as guard:
        for name in FILE_HOSTS:
            guard.resolver.add(name, PUBLIC)
        guard.resolver.add(PRIVATE_NAME, PRIVATE_IP)
        yield guard


@pytest.fixture
def pages() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@dataclass
class World:
    project_id: str
    task_id: str
    member: TokenClient
    viewer: TokenClient

    @property
    def links_url(self) -> str:
        return f"/api/v1/projects/{self.project_id}/tasks/{self.task_id}/links/"

    def add(self, url: str) -> dict[str, Any]:
        response = self.member.api("POST", self.links_url, json={"url": url})
        assert response.status_code == 201, response.get_json()
        data: dict[str, Any] = response.get_json()
        return data

    def refresh(self, link_id: str, client: TokenClient | None = None) -> dict[str, Any]:
        response = (client or self.member).api("POST", f"{self.links_url}{link_id}/refresh/")
        assert response.status_code == 200, response.get_json()
        data: dict[str, Any] = response.get_json()
        return data

    def get(self, link_id: str) -> dict[str, Any]:
        data: dict[str, Any] = self.member.api("GET", f"{self.links_url}{link_id}/").get_json()
        return data


@pytest.fixture
def world(app: Any, make: Factory) -> World:
    owner = make.user(email="owner@example.com", name="Olive Owner")
    project_id = make.project(owner, "Apollo")
    member = make.member(owner, project_id, "member")
    viewer = make.member(owner, project_id, "viewer")
    task = make.task(owner, project_id, name="Ship it")
    return World(project_id, task.id, client_for(app, member), client_for(app, viewer))


def html_page(*head: str, body: str = "", title: str | None = None) -> str:
    """A share page: the given head tags (and an optional <title>), then a body."""
    title_tag = f"<title>{title}</title>" if title is not None else ""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{title_tag}'
        f"{''.join(head)}</head><body>{body}</body></html>"
    )


def og(key: str, value: str) -> str:
    attribute = "name" if key.startswith("twitter:") or key == "description" else "property"
    return f'<meta {attribute}="{key}" content="{value}">'
