"""Jinja filters shared by every page."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """'just now', '5 minutes ago', '3 hours ago', '2 days ago' — for "as of" labels."""
    if value is None:
        return "never"
    now = now or datetime.now(UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = max(0, int((now - value).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"


def init_templating(app: Flask) -> None:
    from ppm.links.icons import status_icon
    from ppm.links.review_status import badges
    from ppm.links.services import has_live_status

    app.jinja_env.filters["ago"] = ago
    app.jinja_env.globals["status_icon"] = status_icon
    app.jinja_env.globals["has_live_status"] = has_live_status
    app.jinja_env.globals["review_badges"] = badges
