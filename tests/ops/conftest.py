"""Fault drills on real servers: ppm under gunicorn, with a PostgreSQL cluster and a Redis of
the test's own (stopping them never disturbs the servers the test command shares).

Every test here is marked `ops` (`pytest -m ops` selects them) and runs in both passes of
scripts/test.sh. Tests that need a database outage or real write concurrency bring their own
PostgreSQL cluster in both passes; the others use the pass's database (a SQLite file, or a fresh
database on the shared PostgreSQL server when PPM_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from tests.support.servers import (
    STANDIN_ENV,
    GitLabStandin,
    PostgresCluster,
    RedisServer,
    app_environment,
    migrate,
    postgres_cluster,
    redis_server,
    why_no_postgres,
    why_no_redis,
)
from tests.support.settings import TEST_DATABASE_URL

PASSWORD = "a long ops password"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ops/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.ops)


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresCluster]:
    reason = why_no_postgres()
    if reason:
        pytest.skip(reason)
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    reason = why_no_redis()
    if reason:
        pytest.skip(reason)
    with redis_server() as server:
        yield server


@pytest.fixture
def standin() -> Iterator[GitLabStandin]:
    server = GitLabStandin()
    yield server
    server.close()


def fresh_database_on(cluster: PostgresCluster) -> str:
    return cluster.create_database("ops_" + uuid.uuid4().hex[:12])


@pytest.fixture
def pass_database(tmp_path: Path) -> str:
    """A new, empty database of the kind this pass of the suite runs on."""
    if not TEST_DATABASE_URL:
        return f"sqlite:///{tmp_path}/ops.sqlite3"
    name = "ops_" + uuid.uuid4().hex[:12]
    admin = TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return TEST_DATABASE_URL.rsplit("/", 1)[0] + "/" + name


def migrated_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = app_environment(database_url, tmp_path / "instance", **STANDIN_ENV, **extra)
    migrate(env)
    return env


# --- data, made through the services as a person would -----------------------------------


@dataclass
class Seeded:
    project_id: str
    owner_email: str
    token: str
    task_ids: list[str]
    link_ids: dict[str, list[str]] = field(default_factory=dict)  # task id -> its links
    members: list[tuple[str, str]] = field(default_factory=list)  # (email, API token)


def in_app(env: dict[str, str]) -> Any:
    """An app on the same database and keys as the served one, for setting up and checking."""
    from ppm import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "SECRET_KEY": env["SECRET_KEY"],
            "INTEGRATION_ENCRYPTION_KEY": env["INTEGRATION_ENCRYPTION_KEY"],
            "INSTANCE_PATH": env["PPM_INSTANCE_PATH"],
            "INTEGRATION_ALLOWED_HOSTS": env["INTEGRATION_ALLOWED_HOSTS"],
            "EGRESS_ALLOWLISTED_HOSTS": env["EGRESS_ALLOWLISTED_HOSTS"],
            "NOTIFY_ALLOWLISTED_HOSTS": env.get("NOTIFY_ALLOWLISTED_HOSTS", ""),
            "INTEGRATION_ALLOW_HTTP": True,
        }
    )


def seed(
    env: dict[str, str],
    *,
    tasks: int = 3,
    gitlab_base: str | None = None,
    members: int = 0,
) -> Seeded:
    """An owner with an API token and a project of `tasks` tasks; with `gitlab_base`, the owner
    connects that GitLab and each task gets one merge request link on it."""
    from ppm.auth import services as auth_services
    from ppm.extensions import db
    from ppm.integrations import services as accounts
    from ppm.links import services as links
    from ppm.projects import services as projects

    app = in_app(env)
    with app.app_context():
        owner = auth_services.create_user("owner@example.com", "Olive Owner", PASSWORD)
        _, token = auth_services.create_api_token(owner, "ops")
        project_id = projects.create_project(owner, {"name": "Drills"}).project.id
        seeded = Seeded(project_id, owner.email, token, [])
        if gitlab_base:
            accounts.connect(owner, "gitlab", {"token": "glpat-standin", "base_url": gitlab_base})
        for n in range(tasks):
            task = projects.create_task(owner, project_id, {"name": f"Task {n}"})
            seeded.task_ids.append(task.id)
            if gitlab_base:
                link = links.add_link(
                    owner, project_id, task.id, {"url": f"{gitlab_base}/acme/api/-/merge_requests/{n + 1}"}
                )
                seeded.link_ids[task.id] = [link.id]
        for n in range(members):
            person = auth_services.create_user(f"writer{n}@example.com", f"Writer {n}", PASSWORD)
            projects.add_member(owner, project_id, {"email": person.email, "role": "member"})
            seeded.members.append((person.email, auth_services.create_api_token(person, "ops")[1]))
        db.session.remove()
        db.engine.dispose()
    return seeded


def api(base: str, token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    session.headers["Accept"] = "application/json"
    return session


def browser_login(base: str, email: str, password: str = PASSWORD) -> tuple[requests.Session, str]:
    """A browser-like session: logs in through the form; returns it and its CSRF token."""
    session = requests.Session()
    page = session.get(base + "/login", timeout=10)
    found = CSRF_META.search(page.text)
    assert found, page.text[:500]
    response = session.post(
        base + "/login",
        data={"email": email, "password": password, "csrf_token": found.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 303, response.text[:500]
    projects = session.get(base + "/projects/", timeout=10)
    token = CSRF_META.search(projects.text)
    assert token
    return session, token.group(1)


# --- webhooks and the queue, as GitHub and an operator use them --------------------------


@dataclass
class Receiver:
    """A GitHub webhook receiver made through the API (SPEC §13), with its one-time secret."""

    base: str
    path: str
    secret: str

    def deliver(self, event: str, payload: dict[str, Any], delivery_id: str | None = None) -> requests.Response:
        """POST the raw bytes signed as GitHub signs them (X-Hub-Signature-256 over the body)."""
        body = json.dumps(payload).encode()
        digest = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/ops",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
            "X-Hub-Signature-256": f"sha256={digest}",
        }
        return requests.post(self.base + self.path, data=body, headers=headers, timeout=60)


def github_receiver(base: str, seeded: Seeded) -> Receiver:
    created = api(base, seeded.token).post(
        f"{base}/api/v1/projects/{seeded.project_id}/webhooks/", json={"provider": "github"}, timeout=30
    )
    assert created.status_code == 201, created.text
    body = created.json()
    return Receiver(base, "/" + body["url"].split("://", 1)[1].split("/", 1)[1], body["secret"])


def pull_request_delivery(example: str, url: str, title: str, updated_at: str) -> dict[str, Any]:
    """One of GitHub's published `pull_request` examples (tests/webhooks/data/github), pointed at
    `url`, with this title and object version."""
    from tests.webhooks.conftest import github_example

    payload = github_example(example)
    payload["pull_request"].update(
        {"html_url": url, "number": int(url.rsplit("/", 1)[1]), "title": title, "updated_at": updated_at}
    )
    return payload


def refresh_all(base: str, seeded: Seeded) -> requests.Response:
    """The owner presses Refresh all (SPEC §14)."""
    return api(base, seeded.token).post(f"{base}/api/v1/projects/{seeded.project_id}/links/refresh/", timeout=30)


def job_state(base: str, seeded: Seeded, job_id: str) -> dict[str, Any]:
    response = api(base, seeded.token).get(f"{base}/api/v1/jobs/{job_id}/", timeout=30)
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state
