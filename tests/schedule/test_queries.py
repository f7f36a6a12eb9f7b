"""Speed: the number of SQL queries of every schedule read does not grow with the project."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from ppm.cli import build_big_project
from ppm.extensions import db
from ppm.projects.models import Task
from tests.conftest import SessionClient
from tests.schedule.conftest import htmx


def _deepest_task(project_id: str) -> str:
    rows = db.session.execute(
        select(Task.id, Task.parent_id)
        .where(Task.project_id == project_id, Task.is_summary.is_(False))
        .order_by(Task.sync_number)  # the same pick on every database
    ).all()
    parents = dict(db.session.execute(select(Task.id, Task.parent_id).where(Task.project_id == project_id)).all())

    def depth(tid: str | None) -> int:
        return 0 if tid is None else 1 + depth(parents[tid])

    return max(rows, key=lambda r: depth(r[1]))[0]


def _first_summary(project_id: str) -> str:
    return (
        db.session.scalars(
            select(Task.id)
            .where(Task.project_id == project_id, Task.parent_id.is_(None), Task.is_summary.is_(True))
            .order_by(Task.position)
        ).first()
        or ""
    )


def _counts(client: SessionClient, count_queries: Any, project_id: str, json_only: bool = False) -> dict[str, int]:
    task = _deepest_task(project_id)
    phase = _first_summary(project_id)
    base = f"/projects/{project_id}/schedule"
    requests = (
        {"json task list": (f"/api/v1/projects/{project_id}/tasks/", {})}
        if json_only
        else {
            "list page": (base, {}),
            "gantt page": (base + "?view=gantt&zoom=week", {}),
            "gantt day fragment": (base + "?view=gantt&zoom=day", htmx("schedule-view")),
            "gantt reload keeping a subtree open": (
                base + f"?view=gantt&zoom=week&expanded={phase},{task}",
                htmx("schedule-view"),
            ),
            "list reload keeping every row": (base + "?attention=stale&expanded=all", htmx("schedule-view")),
            "drawer fragment": (base + f"?task={task}", htmx("drawer")),
            "page with drawer": (base + f"?view=gantt&task={task}", {}),
            "page with a subtree open": (base + f"?open={phase}", {}),
            "subtree fragment": (base + f"/tasks/{phase}/children", htmx("schedule-rows")),
            "gantt subtree fragment": (base + f"/tasks/{phase}/children?view=gantt&zoom=week", htmx("schedule-rows")),
            "all rows fragment": (base + "/rows", htmx("schedule-rows")),
            "show more fragment": (base + f"/more?after={phase}", htmx("more-rows")),
            "all gantt rows fragment": (base + "/rows?view=gantt&zoom=day", htmx("schedule-rows")),
            "filtered subtree fragment": (base + f"/tasks/{phase}/children?attention=stale", htmx("schedule-rows")),
            "filtered all rows fragment": (base + "/rows?attention=overdue_open", htmx("schedule-rows")),
            "page with the add form open": (base + "?add=1", {}),
            "parent choice fragment": (base + "/parents", htmx("add-parent")),
        }
    )
    counts = {}
    for name, (url, headers) in requests.items():
        db.session.expire_all()
        with count_queries() as counter:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, (name, response.get_data(as_text=True)[:300])
        counts[name] = counter.count
    return counts


def test_query_counts_are_the_same_for_10_and_2000_tasks(
    app: Flask, user: Any, session_client: SessionClient, count_queries: Any
) -> None:
    small = build_big_project(user, 10).id
    big = build_big_project(user, 2000).id
    assert db.session.scalar(select(db.func.count()).select_from(Task).where(Task.project_id == big)) == 2000
    small_counts = _counts(session_client, count_queries, small)
    big_counts = _counts(session_client, count_queries, big)
    assert big_counts == small_counts
    assert max(small_counts.values()) <= 8, small_counts


def test_json_task_list_query_count_is_the_same_for_10_and_2000_tasks(
    app: Flask, user: Any, session_client: SessionClient, count_queries: Any
) -> None:
    """The task list's assignees must come in one query: SQLAlchemy's selectin loading (the
    relationship's default) asks once per 500 tasks, so the listing query needs
    `.options(subqueryload(Task.assignees))` as `ppm.projects.services.live_tasks` has."""
    small = build_big_project(user, 10).id
    big = build_big_project(user, 2000).id
    small_counts = _counts(session_client, count_queries, small, json_only=True)
    assert _counts(session_client, count_queries, big, json_only=True) == small_counts


def test_writes_do_not_grow_with_the_project_either(
    app: Flask, user: Any, session_client: SessionClient, count_queries: Any
) -> None:
    counts = []
    for size in (100, 1500):  # the same first phase in both, so the same roll-up work
        project_id = build_big_project(user, size).id
        task = _deepest_task(project_id)
        # Its own dates: the random dates of the two projects differ, so a date change would roll
        # up through a different number of parents; the walk up the tree is the same either way.
        start, finish = db.session.execute(select(Task.start_date, Task.finish_date).where(Task.id == task)).one()
        db.session.expire_all()
        with count_queries() as counter:
            response = session_client.form(
                f"/projects/{project_id}/schedule/tasks/{task}",
                {
                    "name": "Renamed",
                    "description": "",
                    "start_date": start.isoformat(),
                    "finish_date": finish.isoformat(),
                },
                headers=htmx("drawer"),
            )
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_the_garbage_collector_runs_again_after_every_schedule_request(
    session_client: SessionClient, user: Any
) -> None:
    import gc

    project_id = build_big_project(user, 30).id
    for url in (
        f"/projects/{project_id}/schedule",
        f"/projects/{project_id}/schedule?view=gantt",
        "/projects/nope/schedule",
        f"/projects/{project_id}/schedule?task=nope",
    ):
        session_client.get(url)
        session_client.get(url, headers=htmx("schedule-view"))
        assert gc.isenabled(), url
