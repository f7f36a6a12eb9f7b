"""JSON API for the offline sync delta (SPEC §9): parse the window, call the service, serialize.

Task rows are `task_sync_json` (no `external_link_summary`: clients derive it from the links);
link rows are the same JSON as the links API (cached preview fields and `refresh_error`
included). Nothing about credentials is ever part of either."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from ppm.links.serializers import link_json
from ppm.projects.serializers import task_sync_json
from ppm.sync import services
from ppm.sync.services import Delta

bp = Blueprint("sync_api", __name__, url_prefix="/api/v1/projects/<project_id>/sync")


def _query_value(name: str) -> str | None:
    """The one value of a query parameter, None when absent. A repeated parameter is joined
    (`1,2`), which the service refuses as not a whole number."""
    values = request.args.getlist(name)
    if not values:
        return None
    return values[0] if len(values) == 1 else ",".join(values)


def delta_json(delta: Delta) -> dict[str, Any]:
    return {
        "since": delta.since,
        "cursor": delta.cursor,
        "has_more": delta.has_more,
        "tasks": {
            "updated": [task_sync_json(t) for t in delta.tasks if t.deleted_at is None],
            "deleted": [t.id for t in delta.tasks if t.deleted_at is not None],
        },
        "task_links": {
            "updated": [link_json(link) for link in delta.links if link.deleted_at is None],
            "deleted": [link.id for link in delta.links if link.deleted_at is not None],
        },
    }


@bp.get("/")
def sync(project_id: str) -> Any:
    delta = services.sync_delta(current_user, project_id, _query_value("since"), _query_value("limit"))
    response = jsonify(delta_json(delta))
    # A delta is a snapshot of private data: never stored by a cache in between.
    response.headers["Cache-Control"] = "no-store"
    return response
