"""A flat project, as an imported task list would be (issue #15): thousands of top-level tasks,
every fiftieth a summary of two subtasks. Built in bulk like the demo's big projects."""

from __future__ import annotations

from datetime import timedelta

from ppm.auth.models import User
from ppm.extensions import db
from ppm.models_base import new_id, utc_today
from ppm.projects.models import Membership, Project, Role, Task


def build_flat_project(owner: User, top_level: int) -> tuple[Project, list[str]]:
    """The project and the ids of its top-level tasks in order ("Item 1", "Item 2", …; every
    fiftieth is "Group N" with "Item N.1" and "Item N.2" under it)."""
    project = Project(name=f"Imported: {top_level} tasks")
    db.session.add(project)
    db.session.flush()
    db.session.add(Membership(project_id=project.id, user_id=owner.id, role=Role.owner.name))
    start = utc_today() - timedelta(days=10)
    rows: list[Task] = []

    def make(parent: Task | None, position: int, name: str, offset: int, summary: bool = False) -> Task:
        task = Task(
            id=new_id(),
            project_id=project.id,
            parent_id=parent.id if parent else None,
            position=position,
            name=name,
            description="",
            start_date=start + timedelta(days=offset),
            finish_date=start + timedelta(days=offset + 3),
            is_milestone=False,
            is_summary=summary,
            sync_number=len(rows) + 1,
        )
        rows.append(task)
        return task

    tops = []
    for index in range(1, top_level + 1):
        group = index % 50 == 0
        task = make(None, index - 1, f"Group {index}" if group else f"Item {index}", index % 30, summary=group)
        tops.append(task.id)
        if group:
            for k in (1, 2):
                make(task, k - 1, f"Item {index}.{k}", index % 30)
    db.session.add_all(rows)
    project.sync_counter = len(rows)
    db.session.commit()
    return project, tops
