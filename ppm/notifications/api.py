"""JSON API for notification subscriptions (SPEC §25), admin and above. The secret is in the
create and rotate answers only, and those answers are never cached."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from flask_login import current_user

from ppm.api_util import json_body, no_content
from ppm.notifications import services
from ppm.notifications.serializers import attempt_json, revealed_json, subscription_json

bp = Blueprint("notifications_api", __name__, url_prefix="/api/v1/projects/<project_id>/notifications")


def _revealed(revealed: services.Revealed, status: int) -> Response:
    response = jsonify(revealed_json(revealed))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _accepted(event_id: str) -> Response:
    response = jsonify({"event_id": event_id, "status": "queued"})
    response.status_code = 202
    return response


@bp.get("/")
def list_subscriptions(project_id: str) -> Any:
    return jsonify([subscription_json(s) for s in services.list_subscriptions(current_user, project_id)])


@bp.post("/")
def create_subscription(project_id: str) -> Any:
    return _revealed(services.create_subscription(current_user, project_id, json_body()), 201)


@bp.get("/<subscription_id>/")
def get_subscription(project_id: str, subscription_id: str) -> Any:
    return jsonify(subscription_json(services.get_subscription(current_user, project_id, subscription_id)))


@bp.patch("/<subscription_id>/")
def update_subscription(project_id: str, subscription_id: str) -> Any:
    subscription = services.update_subscription(current_user, project_id, subscription_id, json_body())
    return jsonify(subscription_json(subscription))


@bp.delete("/<subscription_id>/")
def delete_subscription(project_id: str, subscription_id: str) -> Any:
    services.delete_subscription(current_user, project_id, subscription_id)
    return no_content()


@bp.post("/<subscription_id>/rotate-secret/")
def rotate_secret(project_id: str, subscription_id: str) -> Any:
    return _revealed(services.rotate_secret(current_user, project_id, subscription_id), 200)


@bp.post("/<subscription_id>/test/")
def send_test(project_id: str, subscription_id: str) -> Any:
    return _accepted(services.send_test(current_user, project_id, subscription_id).id)


@bp.get("/<subscription_id>/deliveries/")
def list_deliveries(project_id: str, subscription_id: str) -> Any:
    return jsonify([attempt_json(a) for a in services.list_deliveries(current_user, project_id, subscription_id)])


@bp.post("/<subscription_id>/deliveries/<delivery_id>/redeliver/")
def redeliver(project_id: str, subscription_id: str, delivery_id: str) -> Any:
    return _accepted(services.redeliver(current_user, project_id, subscription_id, delivery_id).id)
