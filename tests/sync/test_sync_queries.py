"""The delta's cost follows the rows it returns, not the rows left unchanged (SPEC §9): a fixed
number of SQL queries, each a range scan of the (project_id, sync_number) index.

Shown three ways: the query count is the same for a few rows and for many; the database's own
plan (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL) names the index and scans no table;
and on SQLite the virtual-machine steps of the row queries stay flat while the unchanged rows
grow sixty-fold."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import event, func, insert, select, text, update

from ppm.auth.models import User
from ppm.extensions import db
from ppm.links import services as links
from ppm.links.models import TaskLink
from ppm.models_base import new_id
from ppm.projects.models import Project, Task, task_assignees
from tests.conftest import Factory, TokenClient
from tests.support.settings import TEST_DATABASE_URL
from tests.sync.helpers import SYNC


def add_unchanged_rows(project_id: str, count: int, assignee: User) -> None:
    """`count` tasks and `count` links straight into the tables (the services would take long),
    all numbered below whatever comes next, then the statistics refreshed."""
    start = db.session.get(Project, project_id).sync_counter  # type: ignore[union-attr]
    # Under their own summary task (placed last, where the services would put it), so new
    # top-level tasks never renumber, and so never re-stamp, them.
    top_level = db.session.scalar(
        select(func.count())
        .select_from(Task)
        .where(Task.project_id == project_id, Task.parent_id.is_(None), Task.deleted_at.is_(None))
    )
    archive = {
        "id": new_id(),
        "project_id": project_id,
        "name": "Archive",
        "description": "",
        "start_date": date(2026, 1, 1),
        "finish_date": date(2026, 1, 2),
        "is_milestone": False,
        "is_summary": True,
        "position": top_level,
        "sync_number": start + 1,
    }
    start += 1
    tasks = [
        {
            "id": new_id(),
            "project_id": project_id,
            "parent_id": archive["id"],
            "name": f"Old {i}",
            "description": "",
            "start_date": date(2026, 1, 1),
            "finish_date": date(2026, 1, 2),
            "is_milestone": False,
            "is_summary": False,
            "position": i,
            "sync_number": start + 1 + i,
        }
        for i in range(count)
    ]
    db.session.execute(insert(Task), [archive])
    db.session.execute(insert(Task), tasks)
    db.session.execute(insert(task_assignees), [{"task_id": t["id"], "user_id": assignee.id} for t in tasks])
    db.session.execute(
        insert(TaskLink),
        [
            {
                "id": new_id(),
                "project_id": project_id,
                "task_id": tasks[i]["id"],
                "url": f"https://example.com/{i}",
                "url_key": f"https://example.com/{i}",
                "provider": "generic",
                "labels": [],
                "position": 0,
                "sync_number": start + count + 1 + i,
            }
            for i in range(count)
        ],
    )
    db.session.execute(update(Project).where(Project.id == project_id).values(sync_counter=start + 2 * count))
    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def change_a_few(user: User, make: Factory, project_id: str) -> None:
    for i in range(3):
        task = make.task(user, project_id, name=f"New {i}", assignee_ids=[user.id])
        links.add_link(user, project_id, task.id, {"url": f"https://example.org/{i}"})


@contextmanager
def statements() -> Iterator[list[tuple[str, Any]]]:
    captured: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield captured
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def sync_after(owner: TokenClient, project_id: str, cursor: int) -> dict[str, Any]:
    response = owner.api("GET", SYNC.format(project_id) + f"?since={cursor}&limit=500")
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def row_queries(captured: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    found = [(s, p) for s, p in captured if "sync_number >" in s]
    assert len(found) == 3, [s for s, _ in captured]  # tasks, their assignees, links
    return found


def test_the_query_count_does_not_grow_with_rows(
    owner: TokenClient, user: User, make: Factory, project_id: str, count_queries: Any
) -> None:
    with count_queries() as empty:
        sync_after(owner, project_id, 0)
    change_a_few(user, make, project_id)
    with count_queries() as few:
        assert len(sync_after(owner, project_id, 0)["tasks"]["updated"]) == 3
    for i in range(40):
        task = make.task(user, project_id, name=f"More {i}", assignee_ids=[user.id])
        links.add_link(user, project_id, task.id, {"url": f"https://example.net/{i}"})
    with count_queries() as many:
        body = sync_after(owner, project_id, 0)
    assert len(body["tasks"]["updated"]) == 43 and len(body["task_links"]["updated"]) == 43
    assert few.count == many.count, (few.statements, many.statements)
    assert empty.count <= few.count  # an empty delta skips the row queries altogether


def test_the_plan_uses_the_sync_indexes(owner: TokenClient, user: User, make: Factory, project_id: str) -> None:
    add_unchanged_rows(project_id, 3000, user)
    cursor = db.session.get(Project, project_id).sync_counter  # type: ignore[union-attr]
    change_a_few(user, make, project_id)
    with statements() as captured:
        body = sync_after(owner, project_id, cursor)
    assert len(body["tasks"]["updated"]) == 3
    conn = db.session.connection()
    for statement, parameters in row_queries(captured):
        if TEST_DATABASE_URL:
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
            assert "Seq Scan on task" not in plan, plan  # tasks, task_links, task_assignees
        else:
            plan = "\n".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
            assert "SCAN tasks" not in plan.replace("SCAN tasks USING", "") and "SCAN task_links " not in plan, plan
        table = "task_links" if "FROM task_links" in statement else "tasks"
        assert f"ix_{table}_project_sync" in plan, plan
    db.session.rollback()


def test_sqlite_work_stays_flat_as_unchanged_rows_grow(
    owner: TokenClient, user: User, make: Factory, project_id: str
) -> None:
    if TEST_DATABASE_URL:
        return  # SQLite's virtual-machine step counter; PostgreSQL's plan is checked above
    steps: list[int] = []

    def measure(unchanged: int) -> int:
        add_unchanged_rows(project_id, unchanged, user)
        cursor = db.session.get(Project, project_id).sync_counter  # type: ignore[union-attr]
        change_a_few(user, make, project_id)
        counter = [0]

        def tick() -> int:
            counter[0] += 1
            return 0

        def before(conn: Any, cursor_: Any, statement: str, *args: Any) -> None:
            handler = tick if "sync_number >" in statement else None
            conn.connection.dbapi_connection.set_progress_handler(handler, 1)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            body = sync_after(owner, project_id, cursor)
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
        assert len(body["tasks"]["updated"]) == 3 and len(body["task_links"]["updated"]) == 3
        steps.append(counter[0])
        return counter[0]

    small = measure(50)
    large = measure(3000)  # 6,100 unchanged rows of each kind now
    assert small > 0
    assert large < small * 1.5, steps


def test_the_service_runs_no_per_row_queries(user: User, make: Factory, project_id: str, count_queries: Any) -> None:
    from ppm.sync import services

    change_a_few(user, make, project_id)
    services.sync_delta(user, project_id, "0", "1")  # warm: loads the expired actor once
    with count_queries() as counted:
        delta = services.sync_delta(user, project_id, "0", "2")
        assert len(delta.tasks) + len(delta.links) == 2
        _ = [t.assignees for t in delta.tasks]
    with count_queries() as counted_big:
        delta = services.sync_delta(user, project_id, "0", "5000")
        assert len(delta.tasks) == 3
        _ = [t.assignees for t in delta.tasks]
    assert counted.count == counted_big.count == 5  # member check, counter, tasks, assignees, links
