"""`flask --app wsgi ppm demo --tasks N`: a big project with nested summaries, milestones and
assignees, built in bulk, with the same invariants as projects made through the services."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from ppm.extensions import db
from ppm.projects import services
from ppm.projects.models import Task


def test_demo_tasks_builds_a_nested_project(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["ppm", "demo", "--tasks", "120"])
    assert result.exit_code == 0, result.output
    project_id = result.output.strip().splitlines()[-1]
    tasks = list(db.session.scalars(select(Task).where(Task.project_id == project_id)))
    assert len(tasks) == 120
    by_id = {t.id: t for t in tasks}
    depths = services.task_depths(services.wbs_order(tasks))
    assert max(depths.values()) == 3  # phase > workstream > deliverable > draft
    assert sum(t.is_milestone for t in tasks) >= 4
    assert sum(bool(t.assignees) for t in tasks) > 40
    numbers = sorted(t.sync_number for t in tasks)
    assert numbers == list(range(1, 121))
    for task in tasks:
        kids = [k for k in tasks if k.parent_id == task.id]
        assert task.is_summary == bool(kids)
        if kids:  # rolled-up dates, as the services keep them
            assert task.start_date == min(k.start_date for k in kids)
            assert task.finish_date == max(k.finish_date for k in kids)
        if task.is_milestone:
            assert task.start_date == task.finish_date and task.parent_id in by_id
        assert task.finish_date >= task.start_date


def test_demo_project_opens_in_the_schedule(app: Flask, session_client: Any) -> None:
    from ppm.auth.services import find_user_by_email
    from ppm.cli import build_big_project

    project = build_big_project(session_client.user, 60)
    body = session_client.get(f"/projects/{project.id}/schedule").get_data(as_text=True)
    assert body.count('<tr id="task-') == 60
    assert find_user_by_email("ravi@example.com") is not None
