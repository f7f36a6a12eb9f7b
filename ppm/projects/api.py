"""JSON API for projects and members (SPEC §3). Parse, call a service, serialize.

Tasks are served by ppm.schedule.api, which adds each task's link summary (SPEC §8)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask_login import current_user

from ppm.api_util import created, json_body, no_content
from ppm.projects import services
from ppm.projects.serializers import me_json, member_json, project_json

bp = Blueprint("projects_api", __name__, url_prefix="/api/v1")


@bp.get("/me/")
def me() -> Any:
    return jsonify(me_json(current_user))


@bp.get("/projects/")
def list_projects() -> Any:
    return jsonify([project_json(a) for a in services.list_projects(current_user)])


@bp.post("/projects/")
def create_project() -> Any:
    return created(project_json(services.create_project(current_user, json_body())))


@bp.get("/projects/<project_id>/")
def get_project(project_id: str) -> Any:
    return jsonify(project_json(services.load_project(current_user, project_id)))


@bp.patch("/projects/<project_id>/")
def update_project(project_id: str) -> Any:
    return jsonify(project_json(services.update_project(current_user, project_id, json_body())))


@bp.delete("/projects/<project_id>/")
def delete_project(project_id: str) -> Any:
    services.delete_project(current_user, project_id)
    return no_content()


@bp.post("/projects/<project_id>/archive/")
def archive_project(project_id: str) -> Any:
    return jsonify(project_json(services.set_archived(current_user, project_id, True)))


@bp.post("/projects/<project_id>/unarchive/")
def unarchive_project(project_id: str) -> Any:
    return jsonify(project_json(services.set_archived(current_user, project_id, False)))


@bp.get("/projects/<project_id>/members/")
def list_members(project_id: str) -> Any:
    return jsonify([member_json(m) for m in services.list_members(current_user, project_id)])


@bp.post("/projects/<project_id>/members/")
def add_member(project_id: str) -> Any:
    return created(member_json(services.add_member(current_user, project_id, json_body())))


@bp.patch("/projects/<project_id>/members/<user_id>/")
def change_member(project_id: str, user_id: str) -> Any:
    membership = services.change_member_role(current_user, project_id, user_id, json_body())
    return jsonify(member_json(membership))


@bp.delete("/projects/<project_id>/members/<user_id>/")
def remove_member(project_id: str, user_id: str) -> Any:
    services.remove_member(current_user, project_id, user_id)
    return no_content()
