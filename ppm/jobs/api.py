"""JSON API for background jobs (SPEC §14): start a Refresh all, read its progress."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, url_for
from flask_login import current_user

from ppm.api_util import json_body
from ppm.jobs import services

bp = Blueprint("jobs_api", __name__, url_prefix="/api/v1")


@bp.post("/projects/<project_id>/links/refresh/")
def refresh_all(project_id: str) -> Any:
    record = services.start_refresh_all(current_user, project_id, json_body())
    return jsonify({"job_id": record.id, "status_url": url_for("jobs_api.job", job_id=record.id)}), 202


@bp.get("/jobs/<job_id>/")
def job(job_id: str) -> Any:
    return jsonify(services.job_status(current_user, job_id).as_json())
