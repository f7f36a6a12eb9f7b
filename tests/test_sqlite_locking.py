"""ppm.sqlite_locking (SPEC §19): on SQLite a writer that locks its project takes the database
write lock (BEGIN IMMEDIATE) before the reads it checks; reads take no lock; a write without
the project lock begins IMMEDIATE just before it; no transaction is ever a deferred one. What
SQLite itself receives is traced (sqlite3's trace callback), BEGINs included."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

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
