"""The portfolio's JSON (SPEC §22): explicit fields."""

from __future__ import annotations

from typing import Any

from ppm.models_base import iso
from ppm.portfolio.services import ProjectHealth


def project_health_json(row: ProjectHealth) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "name": row.name,
        "role": row.role.name,
        "archived": row.archived,
        "tasks": {"total": row.total, "done": row.done},
        "finish_date": row.finish_date.isoformat() if row.finish_date else None,
        "late": row.late,
        "links": dict(row.links),
        "attention": dict(row.attention),
        "webhooks": {
            "count": row.webhook_count,
            "last_delivery_at": iso(row.last_delivery_at),
            "last_delivery_result": row.last_delivery_result,
        },
    }
