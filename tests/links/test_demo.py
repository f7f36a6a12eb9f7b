"""The demo shows every link state without any network (SPEC §11)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ppm.extensions import db
from ppm.links.models import TaskLink
from ppm.projects.models import Task


def test_demo_has_links_in_every_status_and_file_cards(app: Any, net: Any) -> None:
    result = app.test_cli_runner().invoke(args=["ppm", "demo"])
    assert result.exit_code == 0, result.output
    links = db.session.scalars(select(TaskLink)).all()
    assert {link.status for link in links} == {"open", "draft", "merged", "closed", "unknown"}
    assert {"generic", "github", "gitlab", "google_drive", "dropbox", "box"} <= {link.provider for link in links}
    assert any("/commit/" in link.url for link in links)
    # SPEC §15: every checks and review state, on pull and merge requests only.
    assert {link.checks for link in links if link.kind == "pull"} == {"passing", "failing", "pending", "none"}
    assert {link.review for link in links if link.kind == "pull"} == {
        "approved",
        "changes_requested",
        "review_required",
        "none",
    }
    assert {(link.checks, link.review) for link in links if link.kind != "pull"} == {(None, None)}
    assert any(link.refresh_error and link.refresh_error["code"] == "file_not_public" for link in links)
    assert {link.preview_type for link in links} >= {"document", "spreadsheet", "folder", "pdf"}
    assert net.resolver.calls == [] and net.connects == []  # no network at all
    again = app.test_cli_runner().invoke(args=["ppm", "demo"])
    assert again.exit_code == 0 and db.session.scalar(select(func.count()).select_from(TaskLink)) == len(links)


def test_big_demo_has_links_on_every_non_summary_task(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["ppm", "demo", "--tasks", "60", "--links-per-task", "3"])
    assert result.exit_code == 0, result.output
    project_id = result.output.strip().splitlines()[-1]
    tasks = db.session.scalars(select(Task).where(Task.project_id == project_id, Task.is_summary.is_(False))).all()
    counts = dict(
        db.session.execute(
            select(TaskLink.task_id, func.count()).where(TaskLink.project_id == project_id).group_by(TaskLink.task_id)
        ).all()
    )
    assert tasks and all(counts.get(task.id) == 3 for task in tasks)
    statuses = set(db.session.scalars(select(TaskLink.status).where(TaskLink.project_id == project_id)))
    assert statuses == {"open", "draft", "merged", "closed", "unknown"}
    pairs = set(db.session.execute(select(TaskLink.checks, TaskLink.review).where(TaskLink.project_id == project_id)))
    assert {checks for checks, _ in pairs} == {"passing", "failing", "pending", "none"}
    assert {review for _, review in pairs} == {"approved", "changes_requested", "review_required", "none"}
