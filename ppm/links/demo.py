"""Demo links: every status and a few file cards, cached as if refreshed, so a newcomer sees
every state without any outside network (SPEC §11)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from ppm.auth.models import User
from ppm.extensions import db
from ppm.integrations.providers.review import CHECKS, REVIEWS
from ppm.links import services
from ppm.links.models import TaskLink
from ppm.links.status import PRECEDENCE
from ppm.models_base import iso, new_id, utcnow
from ppm.projects.models import Project, Task
from ppm.projects.services import next_sync_number

# task name -> links: (url, cached fields); the pull and merge requests between them show every
# checks and review state (SPEC §15).
DEMO_LINKS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "Stakeholder interviews": [
        ("https://wiki.example.org/research/interviews", {}),
        (
            "https://docs.google.com/document/d/1demoInterviewNotes/edit",
            {
                "title": "Interview notes",
                "description": "Notes from twelve stakeholder interviews.",
                "preview_type": "document",
                "hours": 5,
            },
        ),
    ],
    "Analytics review": [
        (
            "https://github.com/acme/website/issues/42",
            {"status": "open", "title": "Dashboard shows stale numbers", "hours": 2},
        ),
        (
            "https://docs.google.com/spreadsheets/d/1demoTraffic/edit",
            {
                "title": "Traffic 2026",
                "description": "Weekly visits by page.",
                "preview_type": "spreadsheet",
                "hours": 30,
            },
        ),
    ],
    "Design system": [
        (
            "https://github.com/acme/website/pull/101",
            {"status": "merged", "title": "Add design tokens", "hours": 26, "checks": "passing", "review": "approved"},
        ),
    ],
    "Tokens and typography": [
        (
            "https://github.com/acme/website/pull/118",
            {"status": "draft", "title": "Typography scale", "hours": 1, "checks": "pending", "review": "none"},
        ),
    ],
    "Component library": [
        (
            "https://github.com/acme/website/pull/120",
            {
                "status": "open",
                "title": "Button and link components",
                "hours": 3,
                "checks": "failing",
                "review": "changes_requested",
            },
        ),
        ("https://github.com/acme/website/commit/9f2c1e7", {"title": "Fix focus ring on buttons", "hours": 3}),
    ],
    "Content migration": [
        (
            "https://gitlab.com/acme/content/-/merge_requests/7",
            {
                "status": "closed",
                "title": "Migrate blog posts",
                "hours": 50,
                "checks": "none",
                "review": "review_required",
                "error": ("provider_unreachable", "GitLab is having trouble (503)."),
            },
        ),
        (
            "https://www.dropbox.com/scl/fo/demoassets/brand",
            {"title": "Brand assets", "description": "Logos and photography.", "preview_type": "folder", "hours": 8},
        ),
    ],
    "Accessibility audit": [
        (
            "https://gitlab.com/acme/content/-/issues/12",
            {"status": "open", "title": "Contrast of footer links", "hours": 4},
        ),
        (
            "https://app.box.com/s/demo-audit-report.pdf",
            {"preview_type": "pdf", "error": ("file_not_public", "Private file — open to view")},
        ),
    ],
}


def add_demo_links(owner: User, project_id: str) -> None:
    tasks = {t.name: t for t in db.session.scalars(select(Task).where(Task.project_id == project_id))}
    now = utcnow()
    for task_name, entries in DEMO_LINKS.items():
        task = tasks.get(task_name)
        if task is None:
            continue
        for url, cached in entries:
            link = services.add_link(owner, project_id, task.id, {"url": url})
            _cache(link, cached, now)
    db.session.commit()


def _cache(link: TaskLink, cached: dict[str, Any], now: Any) -> None:
    fields = dict(cached)
    hours = fields.pop("hours", None)
    error = fields.pop("error", None)
    for name, value in fields.items():
        setattr(link, name, value)
    if hours is not None:
        link.fetched_at = now - timedelta(hours=hours)
    if error is not None:
        link.refresh_error = {"code": error[0], "detail": error[1], "at": iso(now)}
    link.sync_number = next_sync_number(link.project_id)


def add_bulk_links(project: Project, per_task: int) -> int:
    """`per_task` links on every non-summary task, in mixed statuses, inserted in bulk."""
    tasks = db.session.scalars(
        select(Task)
        .where(Task.project_id == project.id, Task.is_summary.is_(False), Task.deleted_at.is_(None))
        .order_by(Task.sync_number)
    ).all()
    number = project.sync_counter
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for index, task in enumerate(tasks):
        for k in range(per_task):
            number += 1
            url = f"https://github.com/acme/app/pull/{index * per_task + k + 1}"
            status = PRECEDENCE[(index + k) % len(PRECEDENCE)]
            checks, review = CHECKS[(index + k) % len(CHECKS)], REVIEWS[(index + 2 * k) % len(REVIEWS)]
            rows.append(
                {
                    "id": new_id(),
                    "project_id": project.id,
                    "task_id": task.id,
                    "url": url,
                    "url_key": services.url_key(url),
                    "provider": "github",
                    "base_url": "",
                    "title": f"Change {index}.{k}",
                    "custom_title": "",
                    "labels": [],
                    "status": status,
                    "fetched_at": now if status != "unknown" else None,
                    "refresh_error": None,
                    "description": "",
                    "thumbnail_url": "",
                    "preview_type": "",
                    "position": k,
                    "created_at": now,
                    "updated_at": now,
                    "sync_number": number,
                    "checks": checks,
                    "review": review,
                }
            )
    if rows:
        db.session.execute(TaskLink.__table__.insert(), rows)
    project.sync_counter = number
    db.session.commit()
    analyze_after_bulk_load()
    return len(rows)


def analyze_after_bulk_load() -> None:
    """PostgreSQL plans from table statistics. Right after thousands of rows arrive in one go,
    before autovacuum has analysed them, it takes the tables for nearly empty and picks nested
    loops that made the schedule's listing query take 30 s at 5,000 tasks (0.1 s once analysed)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
