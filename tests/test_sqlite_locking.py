"""ppm.sqlite_locking (SPEC §19): on SQLite a writer that locks its project takes the database
write lock (BEGIN IMMEDIATE) before the reads it checks; reads take no lock; a write without
the project lock begins IMMEDIATE just before it; no transaction is ever a deferred one. What
SQLite itself receives is traced (sqlite3's trace callback), BEGINs included."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from ppm.auth.models import User
from ppm.extensions import db
from ppm.projects import services as projects
from tests.support.settings import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(
    bool(TEST_DATABASE_URL), reason="SQLite's transactions only: PostgreSQL locks rows (FOR UPDATE) instead"
)


@contextmanager
def traced() -> Iterator[list[str]]:
    """The statements SQLite receives on the session's connection, in order."""
    seen: list[str] = []
    raw = db.session.connection().connection.driver_connection
    assert raw is not None
    raw.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        raw.set_trace_callback(None)


def _index(seen: list[str], prefix: str) -> int:
    return next(i for i, statement in enumerate(seen) if statement.lstrip().startswith(prefix))


def test_a_task_move_locks_before_it_reads_what_it_checks(user: User) -> None:
    pid = projects.create_project(user, {"name": "P"}).project.id
    a = projects.create_task(user, pid, {"name": "A"}).id
    b = projects.create_task(user, pid, {"name": "B"}).id
    actor = db.session.get(User, user.id)
    assert actor is not None
    with traced() as seen:
        projects.update_task(actor, pid, a, {"parent_id": b})
    lock = _index(seen, "BEGIN IMMEDIATE")
    assert not any("FROM tasks" in statement for statement in seen[:lock]), seen[:lock]
    assert any("FROM tasks" in statement for statement in seen[lock:])
    assert not any(statement.strip() in ("BEGIN", "BEGIN DEFERRED") for statement in seen)
    assert seen[-1].strip() == "COMMIT"


def test_a_write_without_the_project_lock_begins_immediate_just_before_it(user: User) -> None:
    pid = projects.create_project(user, {"name": "P"}).project.id
    actor = db.session.get(User, user.id)
    assert actor is not None
    with traced() as seen:
        projects.update_project(actor, pid, {"name": "Q"})
    lock = _index(seen, "BEGIN IMMEDIATE")
    assert seen[lock + 1].lstrip().startswith("UPDATE projects")
    assert all(statement.lstrip().startswith("SELECT") for statement in seen[:lock])


def test_reads_take_no_lock(user: User) -> None:
    pid = projects.create_project(user, {"name": "P"}).project.id
    projects.create_task(user, pid, {"name": "A"})
    actor = db.session.get(User, user.id)
    assert actor is not None
    with traced() as seen:
        assert len(projects.list_tasks(actor, pid)) == 1
    assert seen and not any(statement.lstrip().startswith("BEGIN") for statement in seen)


def _short_busy_wait(app: Flask) -> None:
    """Wait 0.2 s for the lock instead of pysqlite's 5 s (the same path, sooner)."""

    @event.listens_for(db.engine, "connect")
    def _quick(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout = 200")

    db.engine.dispose()


@pytest.mark.parametrize("path", ["archive", "task"])
def test_a_writer_waiting_too_long_for_the_lock_is_503(app: Flask, user: User, path: str) -> None:
    """SPEC §27: any writer (one that takes the project lock up front, or one whose first write
    begins the transaction) answers 503 `unavailable` with Retry-After, never 500."""
    from tests.conftest import client_for

    project = projects.create_project(user, {"name": "Busy"}).project
    client = client_for(app, user)
    _short_busy_wait(app)
    with held_write_lock_for(app):
        if path == "archive":
            response = client.api("POST", f"/api/v1/projects/{project.id}/archive/")
        else:
            response = client.api("POST", f"/api/v1/projects/{project.id}/tasks/", json={"name": "New"})
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["code"] == "unavailable" and response.headers["Retry-After"]


@contextmanager
def held_write_lock_for(app: Flask) -> Iterator[None]:
    path = db.engine.url.database
    assert path
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()
