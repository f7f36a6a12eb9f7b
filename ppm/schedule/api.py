"""JSON API for tasks (SPEC §3). It lives with the schedule because every task carries its
`external_link_summary` (SPEC §8), which composes projects and links."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from ppm.api_util import created, json_body, no_content
from ppm.links import attention
from ppm.links import services as links
from ppm.projects import services
from ppm.projects.serializers import task_fields_json, task_json
from ppm.schedule import services as schedule_services

bp = Blueprint("tasks_api", __name__, url_prefix="/api/v1/projects/<project_id>/tasks")


@bp.get("/")
def list_tasks(project_id: str) -> Any:
    """Columns, not ORM tasks (see schedule.services.task_list): the same JSON as task_json."""
    with schedule_services.gc_paused():
        rows = schedule_services.task_list(
            current_user, project_id, request.args.getlist("attention"), request.args.getlist("state")
        )
        return jsonify(
            [
                {**task_fields_json(row, ids), "external_link_summary": summary, "attention": codes}
                for row, ids, summary, codes in rows
            ]
        )


@bp.post("/")
def create_task(project_id: str) -> Any:
    task = services.create_task(current_user, project_id, json_body())
    return created(task_json(task, links.task_summary(task), attention.task_codes(task)))


@bp.get("/<task_id>/")
def get_task(project_id: str, task_id: str) -> Any:
    task = services.get_task(current_user, project_id, task_id)
    return jsonify(task_json(task, links.task_summary(task), attention.task_codes(task)))


@bp.patch("/<task_id>/")
def update_task(project_id: str, task_id: str) -> Any:
    task = services.update_task(current_user, project_id, task_id, json_body())
    return jsonify(task_json(task, links.task_summary(task), attention.task_codes(task)))


@bp.delete("/<task_id>/")
def delete_task(project_id: str, task_id: str) -> Any:
    services.delete_task(current_user, project_id, task_id)
    return no_content()
