"""JSON API for webhook receivers (SPEC §13), admin and above. The secret is in the create and
rotate answers only, and those answers are never cached."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from flask_login import current_user

from ppm.api_util import json_body, no_content
from ppm.webhooks import services
from ppm.webhooks.serializers import receiver_json, revealed_json
from ppm.webhooks.urls import payload_url

bp = Blueprint("webhooks_api", __name__, url_prefix="/api/v1/projects/<project_id>/webhooks")


def _revealed(revealed: services.Revealed, status: int) -> Response:
    response = jsonify(revealed_json(revealed, payload_url(revealed.receiver)))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def list_webhooks(project_id: str) -> Any:
    return jsonify([receiver_json(r, payload_url(r)) for r in services.list_receivers(current_user, project_id)])


@bp.post("/")
def create_webhook(project_id: str) -> Any:
    return _revealed(services.create_receiver(current_user, project_id, json_body()), 201)


@bp.post("/<receiver_id>/rotate-secret/")
def rotate_secret(project_id: str, receiver_id: str) -> Any:
    return _revealed(services.rotate_secret(current_user, project_id, receiver_id), 200)


@bp.delete("/<receiver_id>/")
def delete_webhook(project_id: str, receiver_id: str) -> Any:
    services.delete_receiver(current_user, project_id, receiver_id)
    return no_content()
