"""JSON API for task links (SPEC §6). Parse, call the same services as the drawer, serialize."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask_login import current_user

from ppm.api_util import created, json_body, no_content
from ppm.integrations.limits import link_refresh_limit
from ppm.links import services
from ppm.links.serializers import link_json

bp = Blueprint("links_api", __name__, url_prefix="/api/v1/projects/<project_id>/tasks/<task_id>/links")


@bp.get("/")
def list_links(project_id: str, task_id: str) -> Any:
    return jsonify([link_json(link) for link in services.list_links(current_user, project_id, task_id)])


@bp.post("/")
def add_link(project_id: str, task_id: str) -> Any:
    return created(link_json(services.add_link(current_user, project_id, task_id, json_body())))


@bp.get("/<link_id>/")
def get_link(project_id: str, task_id: str, link_id: str) -> Any:
    return jsonify(link_json(services.get_link(current_user, project_id, task_id, link_id)))


@bp.patch("/<link_id>/")
def edit_link(project_id: str, task_id: str, link_id: str) -> Any:
    link = services.edit_link(current_user, project_id, task_id, link_id, json_body())
    return jsonify(link_json(link))


@bp.delete("/<link_id>/")
def remove_link(project_id: str, task_id: str, link_id: str) -> Any:
    services.remove_link(current_user, project_id, task_id, link_id)
    return no_content()


@bp.post("/<link_id>/refresh/")
@link_refresh_limit
def refresh_link(project_id: str, task_id: str, link_id: str) -> Any:
    return jsonify(link_json(services.refresh_link(current_user, project_id, task_id, link_id)))
