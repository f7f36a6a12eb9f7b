"""A task link as JSON (SPEC §6): what the client wrote, and what refresh cached."""

from __future__ import annotations

from typing import Any

from ppm.links.models import TaskLink
from ppm.models_base import iso


def link_json(link: TaskLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "task_id": link.task_id,
        "url": link.url,
        "provider": link.provider,
        "title": link.title,
        "custom_title": link.custom_title,
        "display_title": link.display_title,
        "labels": list(link.labels or []),
        "status": link.status,
        "fetched_at": iso(link.fetched_at),
        # `retry_at` is in every refresh error (SPEC §18), also in ones stored before it existed.
        "refresh_error": {"retry_at": None, **link.refresh_error} if link.refresh_error else None,
        "description": link.description,
        "thumbnail_url": link.thumbnail_url,
        "preview_type": link.preview_type,
        "checks": link.checks,  # SPEC §15: null unless a pull or merge request
        "review": link.review,
        "source": link.source,  # SPEC §20
        "closes": link.closes,
        "position": link.position,
        "created_at": iso(link.created_at),
        "updated_at": iso(link.updated_at),
    }
