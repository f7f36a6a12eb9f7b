"""Notification fixtures: a loopback receiver behind a public-looking name (the stub resolver
sends `hooks.example.com` to a fake public address that the connect guard routes to
127.0.0.1), a project with an admin, a member and a task, and helpers to drain the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from ppm.extensions import db
from ppm.jobs import notify
from ppm.notifications.models import NotificationEvent
from tests.conftest import Factory, TokenClient, base_config, client_for
from tests.support.netguard import PUBLIC_V4, NetGuard, installed_netguard
from tests.support.receiver import Receiver

HOOKS = "hooks.example.com"
PRIVATE_NAME = "intranet.example.com"


@pytest.fixture(autouse=True)
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    with installed_netguard(monkeypatch) as guard:
        guard.resolver.add(HOOKS, PUBLIC_V4[0])
        guard.resolver.add(PRIVATE_NAME, "10.1.2.3")
        yield guard


@pytest.fixture
def app_config(tmp_path: Any) -> dict[str, Any]:
    return {**base_config(tmp_path), "INTEGRATION_ALLOW_HTTP": True, "PPM_BASE_URL": "https://ppm.example.org"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@dataclass
class World:
    app: Flask
    project_id: str
    task_id: str
    admin: TokenClient
    member: TokenClient
    viewer: TokenClient

    @property
    def base(self) -> str:
        return f"/api/v1/projects/{self.project_id}/notifications/"

    def subscribe(self, url: str, fmt: str = "standard", events: list[str] | None = None) -> dict[str, Any]:
        body = {"url": url, "format": fmt, "events": events or ["link.status_changed", "task.state_changed"]}
        response = self.admin.api("POST", self.base, json=body)
        assert response.status_code == 201, response.get_json()
        data: dict[str, Any] = response.get_json()
        return data


@pytest.fixture
def world(app: Flask, make: Factory) -> World:
    owner = make.user(email="owner@example.com", name="Olive Owner")
    project_id = make.project(owner, "Apollo")
    admin = make.member(owner, project_id, "admin")
    member = make.member(owner, project_id, "member")
    viewer = make.member(owner, project_id, "viewer")
    task = make.task(owner, project_id, name="Ship it")
    return World(app, project_id, task.id, client_for(app, admin), client_for(app, member), client_for(app, viewer))


def url_of(receiver: Receiver, path: str = "/in") -> str:
    return f"http://{HOOKS}:{receiver.port}{path}"


def drain() -> int:
    """What `ppm worker --burst` does after the queue: deliver everything due now."""
    return notify.drain(None)


def make_due() -> None:
    """Skip the retry waits: every pending event is due now."""
    from ppm.models_base import utcnow

    for event in db.session.scalars(db.select(NotificationEvent).where(NotificationEvent.status == "pending")):
        event.next_attempt_at = utcnow()
    db.session.commit()


def events_of(subscription_id: str) -> list[NotificationEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(NotificationEvent)
            .where(NotificationEvent.subscription_id == subscription_id)
            .order_by(NotificationEvent.seq)
        )
    )
