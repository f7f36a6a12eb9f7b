"""The JSON task list reads columns, not ORM tasks (issue #15): it must answer exactly what the
ORM path (`task_json` of each task, as the single-task routes answer) would."""

from __future__ import annotations

from typing import Any

from flask import Flask

from ppm.cli import build_big_project
from ppm.extensions import db
from ppm.links import attention
from ppm.links import services as links
from ppm.links.demo import add_bulk_links
from ppm.projects import services as project_services
from ppm.projects.serializers import task_json
from tests.conftest import SessionClient


def _orm_json(user: Any, project_id: str) -> list[dict[str, Any]]:
    db.session.expire_all()
    return [
        task_json(task, links.task_summary(task), attention.task_codes(task))
        for task in project_services.list_tasks(user, project_id)
    ]


def test_the_list_equals_the_orm_path_field_for_field(
    app: Flask, user: Any, session_client: SessionClient, make: Any
) -> None:
    project = build_big_project(user, 60)  # summaries, milestones, one or two assignees
    add_bulk_links(project, 3)
    # Assignees come ordered by name, as the relationship orders them: add one who sorts first.
    first = make.member(user, project.id, "member", user=make.user(name="Aaron Able"))
    task = next(t for t in project_services.list_tasks(user, project.id) if len(t.assignees) == 2)
    project_services.update_task(user, project.id, task.id, {"description": "Line one\nline two"})
    task.assignees.append(first)
    db.session.commit()
    listed = session_client.get(f"/api/v1/projects/{project.id}/tasks/").get_json()
    expected = _orm_json(user, project.id)
    assert len(listed) == 60 and listed == expected
    changed = next(t for t in listed if t["id"] == task.id)
    assert changed["assignee_ids"][0] == first.id and len(changed["assignee_ids"]) == 3
    assert any(t["external_link_summary"]["count"] for t in listed)
    assert any(t["is_milestone"] for t in listed) and any(t["is_summary"] for t in listed)


def test_removed_tasks_and_other_projects_stay_out(app: Flask, user: Any, session_client: SessionClient) -> None:
    project = build_big_project(user, 12)
    other = build_big_project(user, 5)
    leaf = next(t for t in project_services.list_tasks(user, project.id) if not t.is_summary and not t.is_milestone)
    project_services.delete_task(user, project.id, leaf.id)
    listed = session_client.get(f"/api/v1/projects/{project.id}/tasks/").get_json()
    assert leaf.id not in {t["id"] for t in listed} and len(listed) == 11
    assert listed == _orm_json(user, project.id)
    assert {t["project_id"] for t in listed} == {project.id} != {other.id}
