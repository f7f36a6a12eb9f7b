"""Needs attention (SPEC §16): each code at its boundaries, in order, in the task list and the
task detail, and the `?attention=` filter."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ppm.extensions import db
from ppm.links import attention
from ppm.links.demo import add_bulk_links
from ppm.links.models import TaskLink
from ppm.models_base import utc_today, utcnow
from ppm.projects.models import Project
from tests.links.conftest import World, add
from tests.projects.helpers import assert_error

PR = "https://github.com/acme/api/pull/7"
ISSUE = "https://github.com/acme/api/issues/8"
MR = "https://gitlab.com/acme/web/-/merge_requests/5"


def day(offset: int) -> str:
    return (utc_today() + timedelta(days=offset)).isoformat()


def new_task(world: World, **fields: Any) -> str:
    fields.setdefault("name", "Task")
    response = world.owner.api("POST", f"/api/v1/projects/{world.project_id}/tasks/", json=fields)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def link(world: World, task_id: str, url: str, **columns: Any) -> str:
    """A link added through the API, then given cached values as a refresh would leave them."""
    response = world.member.api("POST", world.links_url(task_id), json={"url": url})
    assert response.status_code == 201, response.get_json()
    row = db.session.get(TaskLink, response.get_json()["id"])
    columns.setdefault("fetched_at", utcnow())
    for name, value in columns.items():
        setattr(row, name, value)
    db.session.commit()
    return row.id


def listed(world: World, query: str = "") -> dict[str, list[str]]:
    response = world.viewer.api("GET", f"/api/v1/projects/{world.project_id}/tasks/{query}")
    assert response.status_code == 200, response.get_json()
    return {task["id"]: task["attention"] for task in response.get_json()}


def codes(world: World, task_id: str) -> list[str]:
    """The same answer from the list and from the detail, or the test fails."""
    detail = world.viewer.api("GET", f"/api/v1/projects/{world.project_id}/tasks/{task_id}/").get_json()
    assert listed(world)[task_id] == detail["attention"]
    return list(detail["attention"])


def test_codes_are_the_spec_list_in_order() -> None:
    assert attention.CODES == (
        "closed_unmerged",
        "failing_checks",
        "changes_requested",
        "overdue_open",
        "overdue",
        "stale",
    )


def test_every_task_carries_attention_empty_when_nothing_is_wrong(world: World) -> None:
    task = new_task(world, start_date=day(-3), finish_date=day(3))
    link(world, task, PR, status="open")
    assert codes(world, task) == []
    assert listed(world)[world.task_id] == []


@pytest.mark.parametrize(("finish", "expected"), [(0, []), (-1, ["overdue_open", "overdue"])])
def test_overdue_open_starts_the_day_after_the_finish_date_utc(world: World, finish: int, expected: list[str]) -> None:
    task = new_task(world, start_date=day(-5), finish_date=day(finish))
    link(world, task, PR, status="open")
    assert codes(world, task) == expected


@pytest.mark.parametrize(
    ("status", "expected"), [("draft", ["overdue_open", "overdue"]), ("merged", ["overdue"]), ("closed", ["overdue"])]
)
def test_overdue_needs_open_or_draft_work(world: World, status: str, expected: list[str]) -> None:
    task = new_task(world, start_date=day(-5), finish_date=day(-1))
    link(world, task, ISSUE, status=status)
    assert codes(world, task) == expected


def test_overdue_without_links_is_overdue_but_not_overdue_open(world: World) -> None:
    assert codes(world, new_task(world, start_date=day(-5), finish_date=day(-1))) == ["overdue"]


@pytest.mark.parametrize(("url", "expected"), [(PR, ["closed_unmerged"]), (MR, ["closed_unmerged"]), (ISSUE, [])])
def test_closed_unmerged_is_for_pull_and_merge_requests_only(world: World, url: str, expected: list[str]) -> None:
    task = new_task(world)
    link(world, task, url, status="closed")
    assert codes(world, task) == expected


def test_a_merged_pull_request_is_not_closed_unmerged(world: World) -> None:
    task = new_task(world)
    link(world, task, PR, status="merged")
    assert codes(world, task) == []


def test_a_merged_pull_request_with_an_old_fetch_is_stale_but_not_overdue(world: World) -> None:
    task = new_task(world, start_date=day(-9), finish_date=day(-2))
    link(world, task, PR, status="merged", fetched_at=utcnow() - timedelta(hours=25))
    assert codes(world, task) == ["overdue", "stale"]


@pytest.mark.parametrize(("hours", "expected"), [(23, []), (24.1, ["stale"])])
def test_stale_after_24_hours(world: World, hours: float, expected: list[str]) -> None:
    task = new_task(world)
    link(world, task, ISSUE, status="open", fetched_at=utcnow() - timedelta(hours=hours))
    assert codes(world, task) == expected


def test_never_fetched_git_link_is_stale_but_other_links_are_not(world: World) -> None:
    git = new_task(world)
    link(world, git, MR, fetched_at=None)
    others = new_task(world)
    link(world, others, "https://github.com/acme/api/commit/0123abcd", fetched_at=None)
    link(world, others, "https://example.org/wiki/plan", fetched_at=None)
    link(world, others, "https://drive.google.com/file/d/abc/view", fetched_at=None)
    assert codes(world, git) == ["stale"]
    assert codes(world, others) == []


def test_a_refresh_error_makes_stale_and_a_cleared_one_does_not(world: World) -> None:
    task = new_task(world)
    failed = link(
        world, task, PR, status="open", refresh_error={"code": "provider_unreachable", "detail": "x", "at": "y"}
    )
    assert codes(world, task) == ["stale"]
    row = db.session.get(TaskLink, failed)
    row.refresh_error = None  # what a later successful refresh writes (stored as JSON null)
    db.session.commit()
    assert codes(world, task) == []


def test_failing_checks_and_changes_requested_from_the_review_and_ci_columns(world: World) -> None:
    failing = new_task(world)
    link(world, failing, PR, status="open", checks="failing", review="approved")
    changes = new_task(world)
    link(world, changes, MR, status="open", checks="passing", review="changes_requested")
    calm = new_task(world)
    link(world, calm, PR, status="open", checks="pending", review="review_required")
    assert codes(world, failing) == ["failing_checks"]
    assert codes(world, changes) == ["changes_requested"]
    assert codes(world, calm) == []


def test_all_six_codes_in_spec_order(world: World) -> None:
    task = new_task(world, start_date=day(-9), finish_date=day(-1))
    link(world, task, ISSUE, status="open", fetched_at=None)
    link(world, task, "https://github.com/acme/api/pull/9", status="open", review="changes_requested")
    link(world, task, "https://github.com/acme/api/pull/10", status="open", checks="failing")
    link(world, task, PR, status="closed")
    assert codes(world, task) == list(attention.CODES)


def test_summary_and_milestone_tasks_never_carry_codes(world: World) -> None:
    summary = new_task(world, name="Summary", start_date=day(-9), finish_date=day(-2))
    child = new_task(world, name="Child", parent_id=summary, start_date=day(-9), finish_date=day(-2))
    milestone = new_task(world, name="Gate", start_date=day(-2), is_milestone=True)
    for task in (summary, milestone):
        link(world, task, PR, status="closed", checks="failing", review="changes_requested", fetched_at=None)
        link(world, task, ISSUE, status="open")
    link(world, child, ISSUE, status="open")
    assert codes(world, summary) == []
    assert codes(world, milestone) == ["overdue"]  # SPEC §21: a missed milestone, nothing else
    assert codes(world, child) == ["overdue_open", "overdue"]


def test_removed_links_never_count(world: World) -> None:
    task = new_task(world, start_date=day(-9), finish_date=day(-1))
    removed = [
        link(world, task, PR, status="closed", checks="failing", review="changes_requested", fetched_at=None),
        link(world, task, ISSUE, status="open"),
    ]
    assert codes(world, task) == list(attention.CODES)
    for link_id in removed:
        assert world.member.api("DELETE", world.links_url(task) + f"{link_id}/").status_code == 204
    assert codes(world, task) == ["overdue"]


def test_the_answers_of_writes_carry_attention_too(world: World) -> None:
    task = new_task(world, start_date=day(-9), finish_date=day(3))
    link(world, task, PR, status="open")
    patched = world.owner.api(
        "PATCH", f"/api/v1/projects/{world.project_id}/tasks/{task}/", json={"finish_date": day(-1)}
    )
    assert patched.get_json()["attention"] == ["overdue_open", "overdue"]


# --- the filter -------------------------------------------------------------------------


@pytest.fixture
def flagged(world: World) -> dict[str, str]:
    overdue = new_task(world, name="Overdue", start_date=day(-9), finish_date=day(-1))
    link(world, overdue, ISSUE, status="open")
    stale = new_task(world, name="Stale")
    link(world, stale, PR, status="open", fetched_at=None)
    closed = new_task(world, name="Closed")
    link(world, closed, MR, status="closed")
    return {"overdue": overdue, "stale": stale, "closed": closed}


def test_filter_returns_tasks_with_any_of_the_codes(world: World, flagged: dict[str, str]) -> None:
    assert set(listed(world, "?attention=overdue_open")) == {flagged["overdue"]}
    assert set(listed(world, "?attention=stale,closed_unmerged")) == {flagged["stale"], flagged["closed"]}
    assert set(listed(world, "?attention=stale&attention=overdue_open")) == {flagged["stale"], flagged["overdue"]}
    assert listed(world, "?attention=failing_checks") == {}
    assert set(listed(world, "?attention=")) == {world.task_id, *flagged.values()}


@pytest.mark.parametrize("value", ["nope", "stale,nope", "STALE", "stale;overdue_open"])
def test_unknown_codes_are_a_validation_error_on_attention(world: World, value: str) -> None:
    response = world.viewer.api("GET", f"/api/v1/projects/{world.project_id}/tasks/?attention={value}")
    body = assert_error(response, 400, "validation_error", "attention")
    assert "stale" in body["fields"]["attention"][0]  # says which codes exist


def test_a_stranger_gets_404_before_the_filter_is_read(world: World) -> None:
    response = world.stranger.api("GET", f"/api/v1/projects/{world.project_id}/tasks/?attention=nope")
    assert_error(response, 404, "not_found")


# --- checks and review in the link JSON and sync rows (SPEC §15, §17) --------------------


def test_link_json_and_sync_rows_carry_checks_and_review(world: World) -> None:
    task = new_task(world)
    pr = link(world, task, PR, checks="failing", review="approved")
    issue = link(world, task, ISSUE)
    one = world.viewer.api("GET", world.links_url(task) + f"{pr}/").get_json()
    assert (one["checks"], one["review"]) == ("failing", "approved")
    other = world.viewer.api("GET", world.links_url(task) + f"{issue}/").get_json()
    assert (other["checks"], other["review"]) == (None, None)
    delta = world.viewer.api("GET", f"/api/v1/projects/{world.project_id}/sync/?since=0&limit=5000").get_json()
    rows = {row["id"]: row for row in delta["task_links"]["updated"]}
    assert (rows[pr]["checks"], rows[pr]["review"]) == ("failing", "approved")
    assert (rows[issue]["checks"], rows[issue]["review"]) == (None, None)


# --- what a link points at -------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "url", "base_url", "kind"),
    [
        ("github", "https://github.com/acme/api/pull/7/files", "", "pull"),
        ("github", "https://github.com/acme/api/issues/7", "", "issue"),
        ("github", "https://github.com/acme/api/commit/0123abcd", "", ""),
        ("github", "https://github.com/acme/api/pull/abc", "", ""),
        ("gitlab", "https://gitlab.com/a/b/c/-/merge_requests/5/diffs", "", "pull"),
        ("gitlab", "https://gitlab.com/a/b/-/issues/5", "", "issue"),
        ("gitlab", "https://example.org/gitlab/a/b/-/merge_requests/5", "https://example.org/gitlab", "pull"),
        ("generic", "https://example.org/a/b/pull/7", "", ""),
        ("google_drive", "https://drive.google.com/file/d/abc/view", "", ""),
    ],
)
def test_link_kind(provider: str, url: str, base_url: str, kind: str) -> None:
    assert attention.link_kind(provider, url, base_url) == kind


def test_bulk_inserted_links_get_their_kind_too(world: World) -> None:
    project = db.session.get(Project, world.project_id)
    assert add_bulk_links(project, 2) == 2
    kinds = {row.kind for row in db.session.query(TaskLink).filter_by(project_id=world.project_id)}
    assert kinds == {"pull"}


def test_added_links_get_their_kind(world: World) -> None:
    pr = add(world.member, world, PR).get_json()
    page = add(world.member, world, "https://example.org/x").get_json()
    assert db.session.get(TaskLink, pr["id"]).kind == "pull"
    assert db.session.get(TaskLink, page["id"]).kind == ""
