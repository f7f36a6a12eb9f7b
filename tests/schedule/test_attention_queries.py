"""Needs attention costs no query per task (SPEC §16): the task list and both schedule views ask
the database the same number of times with and without a filter, at 10 and at 5,000 tasks."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import update

from ppm.cli import build_big_project
from ppm.extensions import db
from ppm.links.attention import CODES
from ppm.links.demo import add_bulk_links
from ppm.links.models import TaskLink
from tests.conftest import SessionClient
from tests.schedule.conftest import htmx

FILTERS = ["", *(f"attention={code}" for code in CODES), "attention=stale,overdue_open"]


def _project(owner: Any, size: int) -> str:
    project = build_big_project(owner, size)
    add_bulk_links(project, 4)
    # Some review and CI values too, so every filter has rows to keep (not only empty answers).
    db.session.execute(
        update(TaskLink).where(TaskLink.project_id == project.id, TaskLink.position == 1).values(checks="failing")
    )
    db.session.execute(
        update(TaskLink)
        .where(TaskLink.project_id == project.id, TaskLink.position == 2)
        .values(review="changes_requested")
    )
    db.session.commit()
    return project.id


def _counts(client: SessionClient, count_queries: Any, project_id: str) -> dict[str, int]:
    base = f"/projects/{project_id}/schedule"
    counts: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for query in FILTERS:
        joiner = "&" if query else ""
        pages = {
            "json": (f"/api/v1/projects/{project_id}/tasks/?{query}", {}),
            "list": (f"{base}?{query}", {}),
            "gantt": (f"{base}?view=gantt&zoom=week{joiner}{query}", {}),
            "list fragment": (f"{base}?{query}", htmx("schedule-view")),
            "gantt fragment": (f"{base}?view=gantt&zoom=month{joiner}{query}", htmx("schedule-view")),
        }
        for name, (url, headers) in pages.items():
            db.session.expire_all()
            with count_queries() as counter:
                response = client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
            counts[f"{name} {query}"] = counter.count
            sizes[f"{name} {query}"] = len(response.get_data())
    # The filters really filter (else equal counts would prove nothing).
    for query in FILTERS[1:]:
        assert sizes[f"json {query}"] < sizes["json "], query
    return counts


def test_filters_cost_no_query_at_10_and_5000_tasks(
    app: Flask, user: Any, session_client: SessionClient, count_queries: Any
) -> None:
    small = _counts(session_client, count_queries, _project(user, 10))
    big = _counts(session_client, count_queries, _project(user, 5000))
    assert big == small
    for name in ("json", "list", "gantt", "list fragment", "gantt fragment"):
        assert len({small[f"{name} {query}"] for query in FILTERS}) == 1, small
