"""Offline-client fixtures: the app served from a thread on 127.0.0.1 (stoppable mid-test),
a project with tasks and links whose status and preview came from mocked providers, and a
runner for `python -m ppm_offline …` exactly as the README shows it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import responses
from flask import Flask
from werkzeug.serving import make_server

from ppm.auth import services as auth_services
from ppm.auth.models import User
from ppm.links import services as links
from tests.conftest import Factory
from tests.support.netguard import NetGuard, installed_netguard
from tests.sync.helpers import NAMES, World, connect_github

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    with installed_netguard(monkeypatch, NAMES) as guard:
        yield guard


class LiveServer:
    """The app on 127.0.0.1 in a thread; `stop()` takes it away as a network outage would."""

    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)
            self.running = False


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Seeded:
    project_id: str
    token: str
    build: Any  # the "Build" summary task
    login: Any  # the task with the links
    pull: Any
    failing: Any
    doc: Any
    private: Any
    world: World


@pytest.fixture
def seeded(user: User, make: Factory) -> Iterator[Seeded]:
    """Build > Login page (4 links: a merged PR, a PR whose refresh failed, a Drive card, a
    private file), and Ship (a milestone)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        connect_github(mock, user)
        world = World(
            pulls={7: "merged", 8: 502}, files={"roadmap": ("Roadmap 2026", "Where we are going"), "secret": 403}
        )
        world.install(mock)
        project_id = make.project(user, "Apollo")
        build = make.task(user, project_id, name="Build", start_date="2026-03-02", finish_date="2026-03-20")
        login = make.task(
            user,
            project_id,
            name="Login page",
            parent_id=build.id,
            start_date="2026-03-03",
            finish_date="2026-03-06",
            description="Sign-in form\nwith the new design",
        )
        make.task(user, project_id, name="Ship", start_date="2026-03-21", finish_date="2026-03-21", is_milestone=True)
        pull = links.add_link(
            user, project_id, login.id, {"url": "https://github.com/acme/api/pull/7", "labels": ["backend"]}
        )
        failing = links.add_link(
            user, project_id, login.id, {"url": "https://github.com/acme/api/pull/8", "custom_title": "Flaky test"}
        )
        doc = links.add_link(user, project_id, login.id, {"url": "https://drive.google.com/file/d/roadmap/view"})
        private = links.add_link(user, project_id, login.id, {"url": "https://drive.google.com/file/d/secret/view"})
        for link in (pull, failing, doc, private):
            links.refresh_link(user, project_id, login.id, link.id)
        _, token = auth_services.create_api_token(user, "offline")
        yield Seeded(project_id, token, build, login, pull, failing, doc, private, world)


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_client(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> Run:
    """`python -m ppm_offline ARGS` in a child process, from the project folder."""
    child_env = {k: v for k, v in os.environ.items() if k != "PPM_TOKEN"}
    child_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "ppm_offline", *args],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)
