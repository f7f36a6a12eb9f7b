"""The schedule page: a project's tasks in WBS order (the Gantt and drawer build on this)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user

from ppm.projects import services
from ppm.projects.models import Role

bp = Blueprint("schedule", __name__)


@bp.get("/projects/<project_id>/schedule")
def schedule(project_id: str) -> Any:
    access = services.load_project(current_user, project_id)
    tasks = services.list_tasks(current_user, project_id)
    return render_template("schedule/schedule.html", access=access, tasks=tasks,
                           depths=services.task_depths(tasks), can_edit=access.can(Role.member))
