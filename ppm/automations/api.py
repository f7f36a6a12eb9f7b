"""JSON API for a project's git automation switches (SPEC §21)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask_login import current_user

from ppm.api_util import json_body
from ppm.automations import services

bp = Blueprint("automations_api", __name__, url_prefix="/api/v1/projects/<project_id>/automations")


@bp.get("/")
def get_switches(project_id: str) -> Any:
    return jsonify(services.get_switches(current_user, project_id).as_json())


@bp.patch("/")
def set_switches(project_id: str) -> Any:
    return jsonify(services.set_switches(current_user, project_id, json_body()).as_json())
