"""Webhook fixtures: a project with every role, receivers made through the real API, and a
sender that signs and posts deliveries exactly as GitHub and GitLab do.

GitHub payloads are GitHub's own published examples (data/github, from @octokit/webhooks-examples,
see data/NOTICE). GitLab payloads follow the documented "Merge request events" and "Work item
events" payloads of GitLab's webhook events reference (doc/user/project/integrations/
webhook_events.md): the same keys and value formats, built here so each test can set the state.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ppm import egress
from tests.conftest import Factory, TokenClient, client_for
from tests.e2e.conftest import live_server  # noqa: F401 - the loopback server the README test posts to
from tests.links.conftest import app_config, net, provider  # noqa: F401 - fixtures reused here

DATA = Path(__file__).parent / "data"
EXAMPLE_PR = "https://github.com/Codertocat/Hello-World/pull/2"
EXAMPLE_ISSUE = "https://github.com/Codertocat/Hello-World/issues/1"


@cache
def _example(name: str) -> str:
    return (DATA / "github" / f"{name}.json").read_text()


def github_example(name: str) -> dict[str, Any]:
    """A fresh copy of one of GitHub's published payloads, e.g. `pull_request.closed`."""
    return copy.deepcopy(json.loads(_example(name)))


def gitlab_merge_request(
    url: str = "https://gitlab.com/awesome_space/awesome_project/-/merge_requests/1",
    *,
    state: str = "opened",
    draft: bool = False,
    title: str = "MS-Viewport",
    updated_at: str = "2013-12-03 17:23:34 UTC",
    action: str = "open",
) -> dict[str, Any]:
    """A Merge Request Hook payload in the documented shape."""
    return {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": {"id": 1, "name": "Administrator", "username": "root", "email": "admin@example.com"},
        "project": {
            "id": 1,
            "name": "Awesome Project",
            "web_url": url.split("/-/")[0],
            "path_with_namespace": "awesome_space/awesome_project",
            "default_branch": "master",
        },
        "object_attributes": {
            "id": 99,
            "iid": int(url.rstrip("/").rsplit("/", 1)[-1]),
            "target_branch": "master",
            "source_branch": "ms-viewport",
            "source_project_id": 14,
            "target_project_id": 14,
            "author_id": 51,
            "title": title,
            "created_at": "2013-12-03T17:23:34Z",
            "updated_at": updated_at,
            "state": state,
            "merge_status": "unchecked",
            "detailed_merge_status": "mergeable",
            "draft": draft,
            "work_in_progress": draft,
            "url": url,
            "action": action,
        },
        "labels": [],
        "changes": {},
        "repository": {"name": "Awesome Project", "homepage": url.split("/-/")[0]},
    }


def gitlab_issue(
    url: str = "https://gitlab.com/gitlabhq/gitlab-test/-/issues/23",
    *,
    state: str = "opened",
    title: str = "New API: create/update/delete file",
    updated_at: str = "2013-12-03 17:15:43 UTC",
    action: str = "open",
) -> dict[str, Any]:
    """An Issue Hook payload in the documented shape (work item events, type Issue)."""
    return {
        "object_kind": "issue",
        "event_type": "issue",
        "user": {"id": 1, "name": "Administrator", "username": "root"},
        "project": {"id": 1, "name": "Gitlab Test", "path_with_namespace": "gitlabhq/gitlab-test"},
        "object_attributes": {
            "id": 301,
            "iid": int(url.rstrip("/").rsplit("/", 1)[-1]),
            "title": title,
            "created_at": "2013-12-03T17:15:43Z",
            "updated_at": updated_at,
            "state": state,
            "action": action,
            "type": "Issue",
            "confidential": False,
            "url": url,
        },
        "labels": [],
        "changes": {},
    }


@dataclass
class Hook:
    id: str
    provider: str
    secret: str
    url: str

    @property
    def path(self) -> str:
        return f"/hooks/{self.provider}/{self.id}"


class Sender:
    """Posts deliveries the way the providers do: the raw bytes, signed, with their headers."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.count = 0

    def _delivery_id(self) -> str:
        self.count += 1
        return f"72d3162e-cc78-11e3-81ab-4c9367dc{self.count:04d}"

    def github(
        self,
        hook: Hook,
        event: str,
        payload: Any,
        *,
        delivery: str | None = None,
        form: bool = False,
        secret: str | None = None,
        signature: str | None = None,
        body: bytes | None = None,
        path: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        raw = json.dumps(payload, separators=(",", ":")).encode()
        if body is None:
            body = urlencode({"payload": raw.decode()}).encode() if form else raw
        digest = hmac.new((secret or hook.secret).encode(), body, hashlib.sha256).hexdigest()
        sent = {
            "Content-Type": "application/x-www-form-urlencoded" if form else "application/json",
            "User-Agent": "GitHub-Hookshot/044aadd",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or self._delivery_id(),
            "X-GitHub-Hook-ID": "292430182",
            "X-Hub-Signature-256": signature if signature is not None else f"sha256={digest}",
            **(headers or {}),
        }
        return self.client.post(path or hook.path, data=body, headers={k: v for k, v in sent.items() if v != ""})

    def gitlab(
        self,
        hook: Hook,
        event: str,
        payload: Any,
        *,
        uuid: str | None = None,
        token: str | None = None,
        path: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = {
            "Content-Type": "application/json",
            "User-Agent": "GitLab/17.6.0",
            "X-Gitlab-Event": event,
            "X-Gitlab-Event-UUID": uuid or self._delivery_id(),
            "X-Gitlab-Instance": "https://gitlab.com",
            "X-Gitlab-Token": hook.secret if token is None else token,
            **(headers or {}),
        }
        body = json.dumps(payload).encode()
        return self.client.post(path or hook.path, data=body, headers={k: v for k, v in sent.items() if v != ""})


@dataclass
class Hooks:
    project_id: str
    other_project_id: str
    task_id: str
    other_task_id: str
    owner: TokenClient
    admin: TokenClient
    member: TokenClient
    viewer: TokenClient
    stranger: TokenClient
    sender: Sender

    @property
    def api(self) -> str:
        return f"/api/v1/projects/{self.project_id}/webhooks/"

    def create(self, kind: str = "github", project_id: str | None = None) -> Hook:
        url = f"/api/v1/projects/{project_id}/webhooks/" if project_id else self.api
        response = self.admin.api("POST", url, json={"provider": kind})
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        return Hook(body["id"], body["provider"], body["secret"], body["url"])

    def link(self, url: str, task_id: str | None = None, project_id: str | None = None, **extra: Any) -> dict[str, Any]:
        pid = project_id or self.project_id
        tid = task_id or self.task_id
        response = self.member.api("POST", f"/api/v1/projects/{pid}/tasks/{tid}/links/", json={"url": url, **extra})
        assert response.status_code == 201, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def get_link(self, link: dict[str, Any], project_id: str | None = None) -> dict[str, Any]:
        pid = project_id or self.project_id
        response = self.viewer.api("GET", f"/api/v1/projects/{pid}/tasks/{link['task_id']}/links/{link['id']}/")
        assert response.status_code == 200
        return response.get_json()  # type: ignore[no-any-return]

    def sync(self, since: int = 0, project_id: str | None = None) -> dict[str, Any]:
        pid = project_id or self.project_id
        return self.viewer.api("GET", f"/api/v1/projects/{pid}/sync/?since={since}&limit=5000").get_json()  # type: ignore[no-any-return]

    def receiver(self, hook: Hook) -> dict[str, Any]:
        rows = self.admin.api("GET", self.api).get_json()
        return next(row for row in rows if row["id"] == hook.id)


@pytest.fixture
def hooks(app: Flask, make: Factory) -> Hooks:
    owner = make.user(email="owner@example.com", name="Olive Owner")
    project_id = make.project(owner, "Apollo")
    admin = make.member(owner, project_id, "admin")
    member = make.member(owner, project_id, "member")
    viewer = make.member(owner, project_id, "viewer")
    other_project_id = make.project(owner, "Gemini")
    make.member(owner, other_project_id, "member", user=member)
    make.member(owner, other_project_id, "viewer", user=viewer)
    make.member(owner, other_project_id, "admin", user=admin)
    task = make.task(owner, project_id, name="Ship it", start_date="2026-03-02", finish_date="2026-03-06")
    other_task = make.task(owner, other_project_id, name="Elsewhere", start_date="2026-03-02", finish_date="2026-03-06")
    return Hooks(
        project_id,
        other_project_id,
        task.id,
        other_task.id,
        client_for(app, owner),
        client_for(app, admin),
        client_for(app, member),
        client_for(app, viewer),
        client_for(app, make.user()),
        Sender(app.test_client()),
    )


@pytest.fixture(autouse=True)
def egress_calls(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Every outbound call the app makes; a delivery must make none (SPEC §13). Tests that
    refresh on purpose ask for the `allow_egress` fixture."""
    calls: list[str] = []
    real = egress.fetch

    def recording(method: str, url: str, **kwargs: Any) -> Any:
        calls.append(url)
        return real(method, url, **kwargs)

    monkeypatch.setattr(egress, "fetch", recording)
    yield calls
    if "allow_egress" not in request.fixturenames:
        assert calls == [], f"webhook handling called out: {calls}"


@pytest.fixture
def allow_egress() -> None:
    """Requested by a test that refreshes a link on purpose (through `responses`)."""
