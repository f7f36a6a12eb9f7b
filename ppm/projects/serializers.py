"""Explicit JSON field lists (SPEC §3, §12)."""

from __future__ import annotations

from typing import Any

from ppm.auth.models import User
from ppm.models_base import iso
from ppm.projects.models import Membership, Task
from ppm.projects.services import Access

EMPTY_LINK_SUMMARY: dict[str, Any] = {"count": 0, "worst_status": None}


def project_json(access: Access) -> dict[str, Any]:
    project = access.project
    return {
        "id": project.id,
        "name": project.name,
        "archived": project.archived,
        "role": access.role.name,
        "created_at": iso(project.created_at),
        "updated_at": iso(project.updated_at),
    }


def member_json(membership: Membership) -> dict[str, Any]:
    return {
        "user_id": membership.user_id,
        "email": membership.user.email,
        "name": membership.user.name,
        "role": membership.role,
    }


def me_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name}


def task_json(
    task: Task, link_summary: dict[str, Any] | None = None, attention: list[str] | None = None
) -> dict[str, Any]:
    data = task_sync_json(task)
    data["external_link_summary"] = dict(link_summary or EMPTY_LINK_SUMMARY)
    data["attention"] = list(attention or [])  # SPEC §16: codes, most urgent first
    return data


def task_sync_json(task: Task) -> dict[str, Any]:
    """The task as the sync delta sends it: everything but the derived link summary."""
    return task_fields_json(task, [user.id for user in task.assignees])


def task_fields_json(task: Any, assignee_ids: list[str]) -> dict[str, Any]:
    """The one field list of a task in JSON, from a Task or from a row of a column query with
    the same names (the task list reads columns: ORM objects were most of its time)."""
    return {
        "id": task.id,
        "project_id": task.project_id,
        "parent_id": task.parent_id,
        "name": task.name,
        "description": task.description,
        "start_date": task.start_date.isoformat(),
        "finish_date": task.finish_date.isoformat(),
        "is_milestone": task.is_milestone,
        "is_summary": task.is_summary,
        "assignee_ids": assignee_ids,
        "position": task.position,
        "state": task.state,  # SPEC §21: a summary's is derived from its leaves (kept by the roll-up)
        "done_at": iso(task.done_at),
        "state_source": task.state_source,
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
    }
