"""Migration 0011 (SPEC §20) on a database holding data: every project gets a key from its name
(the oldest keeps the plain one), every task a number in creation order per project (removed
tasks too), and each project's counter continues after its highest number. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from ppm.extensions import db
from tests.test_migrations import _empty_database, _fresh_app

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _project(conn, project_id: str, name: str, minutes: int) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        text(
            "INSERT INTO projects (id, name, archived, sync_counter, created_at, updated_at) "
            "VALUES (:id, :name, false, 0, :at, :at)"
        ),
        {"id": project_id, "name": name, "at": T0 + timedelta(minutes=minutes)},
    )


def _task(conn, task_id: str, project_id: str, minutes: int, *, removed: bool = False) -> None:  # type: ignore[no-untyped-def]
    at = T0 + timedelta(minutes=minutes)
    conn.execute(
        text(
            "INSERT INTO tasks (id, project_id, parent_id, name, description, start_date, finish_date, "
            "is_milestone, is_summary, position, deleted_at, sync_number, created_at, updated_at) VALUES "
            "(:id, :pid, NULL, :id, '', '2026-01-01', '2026-01-02', false, false, 0, :deleted, 1, :at, :at)"
        ),
        {"id": task_id, "pid": project_id, "at": at, "deleted": at if removed else None},
    )


def test_existing_projects_get_keys_and_tasks_numbers_in_creation_order(tmp_path: Path) -> None:
    app = _fresh_app(tmp_path)
    with app.app_context():
        _empty_database()
        try:
            upgrade(revision="0009")
            with db.engine.begin() as conn:
                # Inserted out of creation order on purpose: the migration must sort by created_at.
                _project(conn, "p2", "Website Redesign", 5)
                _project(conn, "p1", "website redesign", 1)
                _project(conn, "p3", "Web", 9)
                _project(conn, "p4", "!!!", 12)
                _task(conn, "b", "p1", 30)
                _task(conn, "a", "p1", 40, removed=True)
                _task(conn, "c", "p1", 20)
                _task(conn, "z", "p2", 50)
            upgrade(revision="0011")
            with db.engine.begin() as conn:
                keys = dict(conn.execute(text("SELECT id, key FROM projects")).all())
                assert keys == {"p1": "WR", "p2": "WR2", "p3": "WEB", "p4": "PRJ"}
                former = dict(conn.execute(text("SELECT key, project_id FROM project_keys")).all())
                assert former == {"WR": "p1", "WR2": "p2", "WEB": "p3", "PRJ": "p4"}
                numbers = dict(conn.execute(text("SELECT id, number FROM tasks")).all())
                assert numbers == {"c": 1, "b": 2, "a": 3, "z": 1}
                counters = dict(conn.execute(text("SELECT id, task_counter FROM projects")).all())
                assert counters == {"p1": 3, "p2": 1, "p3": 0, "p4": 0}
            downgrade(revision="0009")
            with db.engine.begin() as conn:
                assert conn.execute(text("SELECT count(*) FROM tasks")).scalar_one() == 4
        finally:
            _empty_database()
            db.create_all()
            db.engine.dispose()
