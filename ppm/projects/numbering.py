"""Keys and numbers handed out as rows are first written (SPEC §20), whatever code creates them:
a new project without a key gets one made from its name (and every project's keys are kept in
project_keys); a new task without a number draws the next one from its project's counter.

One `before_flush` listener on every session. Drawing numbers updates the project row first,
like every writer of a project (projects.services.next_sync_number), so concurrent creators
queue on it and numbers are never handed out twice.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from ppm.models_base import new_id
from ppm.projects.keys import derive_key, key_base, normal_key
from ppm.projects.models import Project, ProjectKey, Task


def _taken_keys(session: Session, first_letter: str) -> set[str]:
    rows = session.execute(select(ProjectKey.key).where(ProjectKey.key.like(f"{first_letter}%")))
    return set(rows.scalars())


def _key_new_projects(session: Session, projects: list[Project]) -> None:
    claimed: set[str] = set()
    for project in projects:
        if project.id is None:
            project.id = new_id()
        if project.key:
            project.key = normal_key(project.key)
        else:
            base = key_base(project.name or "")
            project.key = derive_key(project.name or "", _taken_keys(session, base[0]) | claimed)
        claimed.add(project.key)
        session.add(ProjectKey(key=project.key, project_id=project.id))


def _number_new_tasks(session: Session, tasks: list[Task], new_projects: dict[str, Project]) -> None:
    by_project: dict[str, list[Task]] = defaultdict(list)
    for task in tasks:
        project_id = task.project_id or (task.project.id if task.project is not None else None)
        if project_id is not None:
            by_project[project_id].append(task)
    for project_id, waiting in by_project.items():
        count = len(waiting)
        if project_id in new_projects:
            project = new_projects[project_id]
            last = (project.task_counter or 0) + count
            project.task_counter = last
        else:
            last = session.execute(
                update(Project)
                .where(Project.id == project_id)
                .values(task_counter=Project.task_counter + count, updated_at=Project.updated_at)
                .returning(Project.task_counter)
                .execution_options(synchronize_session=False)
            ).scalar_one()
        for offset, task in enumerate(waiting):
            task.number = int(last) - count + 1 + offset


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    new_projects = [obj for obj in session.new if isinstance(obj, Project)]
    new_tasks = [obj for obj in session.new if isinstance(obj, Task) and obj.number is None]
    if not new_projects and not new_tasks:
        return
    with session.no_autoflush:
        _key_new_projects(session, new_projects)
        _number_new_tasks(session, new_tasks, {project.id: project for project in new_projects})


def install() -> None:
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
