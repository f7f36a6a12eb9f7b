"""GET /api/v1/projects/{p}/sync/ (SPEC §9, §12 "Sync"): shape, order, paging, tombstones,
re-stamps, permissions and validation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import responses
from sqlalchemy import select, update

from ppm.extensions import db
from ppm.links import services as links
from ppm.links.models import TaskLink
from ppm.projects import services as projects
from ppm.projects.models import Project, Task
from tests.conftest import Factory, TokenClient
from tests.projects.helpers import assert_error
from tests.support.shapes import LINK_FIELDS
from tests.support.shapes import TASK_SYNC_FIELDS as TASK_FIELDS
from tests.sync.helpers import GITHUB_TOKEN, SYNC, World, api_fetcher, check_page_invariants, live_state, row_count


def get(client: TokenClient, project_id: str, query: str = "") -> Any:
    return client.api("GET", SYNC.format(project_id) + query)


def page(client: TokenClient, project_id: str, since: int = 0, limit: int = 500) -> dict[str, Any]:
    response = get(client, project_id, f"?since={since}&limit={limit}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    check_page_invariants(body)
    return body


def numbers(project_id: str) -> dict[str, int]:
    """Every row's current sync number, tasks and links alike."""
    db.session.expire_all()
    rows = db.session.execute(select(Task.id, Task.sync_number).where(Task.project_id == project_id)).all()
    rows += db.session.execute(select(TaskLink.id, TaskLink.sync_number).where(TaskLink.project_id == project_id)).all()
    return dict(rows)  # type: ignore[arg-type]


def ids_in(body: dict[str, Any]) -> list[str]:
    return (
        [r["id"] for r in body["tasks"]["updated"]]
        + body["tasks"]["deleted"]
        + [r["id"] for r in body["task_links"]["updated"]]
        + body["task_links"]["deleted"]
    )


# --- shape ----------------------------------------------------------------------------------


def test_an_empty_project_answers_an_empty_delta(owner: TokenClient, project_id: str) -> None:
    response = get(owner, project_id)
    assert response.status_code == 200
    assert response.get_json() == {
        "since": 0,
        "cursor": 0,
        "has_more": False,
        "tasks": {"updated": [], "deleted": []},
        "task_links": {"updated": [], "deleted": []},
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_live_rows_are_full_json_as_the_other_routes_give_them(
    owner: TokenClient, user: Any, make: Factory, project_id: str
) -> None:
    parent = make.task(user, project_id, name="Build", start_date="2026-03-02", finish_date="2026-03-09")
    child = make.task(
        user,
        project_id,
        name="Login",
        parent_id=parent.id,
        assignee_ids=[user.id],
        start_date="2026-03-03",
        finish_date="2026-03-05",
        description="**bold**",
    )
    link = links.add_link(
        user,
        project_id,
        child.id,
        {"url": "github.com/acme/api/pull/7", "custom_title": "Fix login", "labels": ["api", "ui"]},
    )
    body = page(owner, project_id)
    assert body["since"] == 0 and body["has_more"] is False
    assert body["cursor"] == max(numbers(project_id).values())
    tasks = {t["id"]: t for t in body["tasks"]["updated"]}
    assert set(tasks) == {parent.id, child.id}
    for task_id, row in tasks.items():
        assert set(row) == TASK_FIELDS  # no external_link_summary (SPEC §12) nor attention: clients derive them
        full = owner.api("GET", f"/api/v1/projects/{project_id}/tasks/{task_id}/").get_json()
        full.pop("external_link_summary")
        full.pop("attention")
        assert row == full
    assert tasks[parent.id]["is_summary"] is True
    assert tasks[child.id]["assignee_ids"] == [user.id]
    [row] = body["task_links"]["updated"]
    assert set(row) == LINK_FIELDS
    assert row == owner.api("GET", f"/api/v1/projects/{project_id}/tasks/{child.id}/links/{link.id}/").get_json()
    assert row["display_title"] == "Fix login" and row["status"] == "unknown" and row["refresh_error"] is None
    assert body["tasks"]["deleted"] == [] and body["task_links"]["deleted"] == []


def test_rows_come_in_number_order_and_pages_never_miss_or_repeat(
    owner: TokenClient, user: Any, make: Factory, project_id: str
) -> None:
    for i in range(4):
        task = make.task(user, project_id, name=f"T{i}")
        links.add_link(user, project_id, task.id, {"url": f"https://example.com/{i}"})
    projects.update_task(user, project_id, make.task(user, project_id, name="late").id, {"name": "renamed"})
    current = numbers(project_id)
    seen: list[str] = []
    since, pages = 0, 0
    while True:
        body = page(owner, project_id, since, limit=3)
        pages += 1
        got = ids_in(body)
        assert 1 <= len(got) <= 3
        assert all(since < current[i] <= body["cursor"] for i in got)
        assert body["cursor"] == max(current[i] for i in got)  # the last number included
        seen += sorted(got, key=current.__getitem__)
        since = body["cursor"]
        if not body["has_more"]:
            break
    assert seen == sorted(current, key=current.__getitem__)  # every row once, in number order
    assert pages == -(-len(current) // 3)
    again = page(owner, project_id, since)
    assert ids_in(again) == [] and again["cursor"] == since and again["has_more"] is False


def test_limit_counts_tasks_and_links_together(owner: TokenClient, user: Any, make: Factory, project_id: str) -> None:
    task = make.task(user, project_id)
    for i in range(3):
        links.add_link(user, project_id, task.id, {"url": f"https://example.com/{i}"})
    make.task(user, project_id)
    first = page(owner, project_id, limit=4)  # task, link, link, link | task
    assert len(first["tasks"]["updated"]) == 1 and len(first["task_links"]["updated"]) == 3
    assert first["has_more"] is True
    rest = page(owner, project_id, first["cursor"], limit=4)
    assert len(rest["tasks"]["updated"]) == 1 and rest["has_more"] is False
    exact = page(owner, project_id, limit=5)
    assert row_count(exact) == 5 and exact["has_more"] is False


def test_a_change_after_a_sync_is_all_the_next_delta_holds(
    owner: TokenClient, user: Any, make: Factory, project_id: str
) -> None:
    tasks = [make.task(user, project_id, name=f"T{i}") for i in range(5)]
    link = links.add_link(user, project_id, tasks[0].id, {"url": "https://example.com/a"})
    cursor = page(owner, project_id)["cursor"]
    projects.update_task(user, project_id, tasks[4].id, {"description": "now with notes"})
    links.edit_link(user, project_id, tasks[0].id, link.id, {"labels": ["x"]})
    body = page(owner, project_id, cursor)
    assert [t["id"] for t in body["tasks"]["updated"]] == [tasks[4].id]
    assert body["tasks"]["updated"][0]["description"] == "now with notes"
    assert [row["labels"] for row in body["task_links"]["updated"]] == [["x"]]


# --- removals and re-stamps -------------------------------------------------------------------


def test_removed_rows_appear_only_as_ids(owner: TokenClient, user: Any, make: Factory, project_id: str) -> None:
    parent = make.task(user, project_id, name="Parent")
    child = make.task(user, project_id, name="Child", parent_id=parent.id)
    keep = make.task(user, project_id, name="Keep")
    on_child = links.add_link(user, project_id, child.id, {"url": "https://example.com/child"})
    on_parent = links.add_link(user, project_id, parent.id, {"url": "https://example.com/parent"})
    on_keep = links.add_link(user, project_id, keep.id, {"url": "https://example.com/keep"})
    gone = links.add_link(user, project_id, keep.id, {"url": "https://example.com/gone"})
    cursor = page(owner, project_id)["cursor"]

    links.remove_link(user, project_id, keep.id, gone.id)
    body = page(owner, project_id, cursor)
    assert body["task_links"] == {"updated": [], "deleted": [gone.id]}
    cursor = body["cursor"]

    projects.delete_task(user, project_id, parent.id)  # its subtask and every link on them go too
    body = page(owner, project_id, cursor)
    assert set(body["tasks"]["deleted"]) == {parent.id, child.id}
    assert set(body["task_links"]["deleted"]) == {on_child.id, on_parent.id}
    assert all(isinstance(i, str) for i in body["tasks"]["deleted"] + body["task_links"]["deleted"])
    # Keep moved up to position 0: a sibling position change re-stamps it (SPEC §12).
    assert [(t["id"], t["position"]) for t in body["tasks"]["updated"]] == [(keep.id, 0)]

    full = page(owner, project_id)
    assert {t["id"] for t in full["tasks"]["updated"]} == {keep.id}
    assert {row["id"] for row in full["task_links"]["updated"]} == {on_keep.id}
    assert set(full["tasks"]["deleted"]) == {parent.id, child.id}
    assert set(full["task_links"]["deleted"]) == {on_child.id, on_parent.id, gone.id}


def test_writes_that_change_other_rows_restamp_them(
    owner: TokenClient, user: Any, make: Factory, project_id: str
) -> None:
    parent = make.task(user, project_id, name="Phase", start_date="2026-01-05", finish_date="2026-01-06")
    first = make.task(user, project_id, name="First")
    cursor = page(owner, project_id)["cursor"]

    child = make.task(
        user, project_id, name="Sub", parent_id=parent.id, start_date="2026-02-01", finish_date="2026-02-10"
    )
    body = page(owner, project_id, cursor)
    rows = {t["id"]: t for t in body["tasks"]["updated"]}
    assert set(rows) == {child.id, parent.id}  # the parent became a summary with rolled-up dates
    assert rows[parent.id]["is_summary"] is True
    assert (rows[parent.id]["start_date"], rows[parent.id]["finish_date"]) == ("2026-02-01", "2026-02-10")
    cursor = body["cursor"]

    new = make.task(user, project_id, name="Now first", position=0)
    body = page(owner, project_id, cursor)
    rows = {t["id"]: t for t in body["tasks"]["updated"]}
    assert set(rows) == {new.id, parent.id, first.id}  # both old top-level siblings moved down
    assert [rows[i]["position"] for i in (new.id, parent.id, first.id)] == [0, 1, 2]
    assert body["cursor"] == max(numbers(project_id).values())


# --- links: refresh results and previews reach the delta ---------------------------------------


def test_refresh_results_and_preview_cards_reach_the_delta(
    owner: TokenClient, user: Any, make: Factory, project_id: str, github: responses.RequestsMock
) -> None:
    world = World(pulls={7: "merged"}, files={"abc": ("Roadmap 2026", "Where we are going")})
    world.install(github)
    task = make.task(user, project_id)
    pull = links.add_link(user, project_id, task.id, {"url": "https://github.com/acme/api/pull/7"})
    doc = links.add_link(user, project_id, task.id, {"url": "https://drive.google.com/file/d/abc/view"})
    cursor = page(owner, project_id)["cursor"]

    links.refresh_link(user, project_id, task.id, pull.id)
    links.refresh_link(user, project_id, task.id, doc.id)
    body = page(owner, project_id, cursor)
    rows = {row["id"]: row for row in body["task_links"]["updated"]}
    assert rows[pull.id]["status"] == "merged" and rows[pull.id]["title"] == "PR 7 (merged)"
    assert rows[pull.id]["fetched_at"] and rows[pull.id]["refresh_error"] is None
    card = rows[doc.id]
    assert (card["title"], card["description"]) == ("Roadmap 2026", "Where we are going")
    assert card["thumbnail_url"] == "https://lh3.googleusercontent.com/abc.png"
    assert card["provider"] == "google_drive" and card["preview_type"] == "file"
    cursor = body["cursor"]

    world.pulls[7] = 502
    world.files["abc"] = 403
    links.refresh_link(user, project_id, task.id, pull.id)
    links.refresh_link(user, project_id, task.id, doc.id)
    body = page(owner, project_id, cursor)
    rows = {row["id"]: row for row in body["task_links"]["updated"]}
    assert rows[pull.id]["status"] == "merged"  # the last good status is kept…
    assert rows[pull.id]["refresh_error"]["code"] == "provider_unreachable"  # …and the failure says why
    assert set(rows[pull.id]["refresh_error"]) == {"code", "detail", "at", "retry_at"}
    assert rows[doc.id]["title"] == "Roadmap 2026" and rows[doc.id]["thumbnail_url"]
    assert rows[doc.id]["refresh_error"]["code"] == "file_not_public"
    # Credentials are never part of the sync: not the token, nor anything about the credential.
    text = get(owner, project_id).get_data(as_text=True)
    assert GITHUB_TOKEN not in text and GITHUB_TOKEN[-8:] not in text
    for word in ("ciphertext", "credential", "base_url", "account_login", "token"):
        assert word not in text


# --- access ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "member", "admin", "owner"])
def test_every_member_may_sync(
    as_role: Callable[[str], TokenClient], user: Any, make: Factory, project_id: str, role: str
) -> None:
    make.task(user, project_id)
    assert len(page(as_role(role), project_id)["tasks"]["updated"]) == 1


def test_a_non_member_gets_404_and_an_anonymous_caller_401(
    as_role: Callable[[str], TokenClient], client: Any, project_id: str
) -> None:
    assert_error(get(as_role("stranger"), project_id), 404, "not_found")
    # Routing comes before validation: a stranger learns nothing from a bad query either.
    assert_error(get(as_role("stranger"), project_id, "?limit=0"), 404, "not_found")
    assert_error(get(as_role("stranger"), "no-such-project"), 404, "not_found")
    assert_error(client.get(SYNC.format(project_id)), 401, "not_authenticated")


def test_an_archived_project_still_syncs(
    owner: TokenClient, as_role: Callable[[str], TokenClient], user: Any, make: Factory, project_id: str
) -> None:
    make.task(user, project_id)
    viewer = as_role("viewer")
    projects.set_archived(user, project_id, True)
    assert len(page(viewer, project_id)["tasks"]["updated"]) == 1
    assert owner.api("POST", SYNC.format(project_id)).status_code == 405


def test_session_clients_may_sync_too(session_client: Any, user: Any, make: Factory, project_id: str) -> None:
    make.task(user, project_id)
    response = session_client.get(SYNC.format(project_id))
    assert response.status_code == 200 and len(response.get_json()["tasks"]["updated"]) == 1


# --- validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("?since=-1", {"since"}),
        ("?since=1.5", {"since"}),
        ("?since=", {"since"}),
        ("?since=abc", {"since"}),
        ("?since=+3", {"since"}),
        ("?since=%203", {"since"}),
        ("?since=1e3", {"since"}),
        ("?since=0x10", {"since"}),
        ("?since=1&since=2", {"since"}),
        ("?since=" + "9" * 41, {"since"}),
        ("?limit=0", {"limit"}),
        ("?limit=-5", {"limit"}),
        ("?limit=5001", {"limit"}),
        ("?limit=1.5", {"limit"}),
        ("?limit=", {"limit"}),
        ("?limit=ten", {"limit"}),
        ("?limit=%EF%BC%91", {"limit"}),  # a full-width digit one: digits means 0-9 only
        ("?since=-1&limit=0", {"since", "limit"}),
    ],
)
def test_bad_windows_answer_400_validation_error(
    owner: TokenClient, project_id: str, query: str, fields: set[str]
) -> None:
    body = assert_error(get(owner, project_id, query), 400, "validation_error", *fields)
    assert set(body["fields"]) == fields


@pytest.mark.parametrize(
    ("query", "since"),
    [
        ("", 0),
        ("?since=0", 0),
        ("?limit=1", 0),
        ("?limit=5000", 0),
        ("?since=007", 7),
        ("?since=99999999999999999999", 99999999999999999999),
        ("?unknown=1", 0),
    ],
)
def test_good_windows(owner: TokenClient, user: Any, make: Factory, project_id: str, query: str, since: int) -> None:
    make.task(user, project_id)
    body = get(owner, project_id, query).get_json()
    assert body["since"] == since
    assert body["cursor"] == max(since, 1 if since == 0 else since)


def test_the_default_limit_is_500(owner: TokenClient, user: Any, project_id: str) -> None:
    task = projects.create_task(user, project_id, {"name": "Bulk"})
    # Rows straight into the table (the services would take long): 501 links, numbered in order.
    counter = numbers(project_id)[task.id]
    for i in range(501):
        db.session.add(
            TaskLink(
                project_id=project_id,
                task_id=task.id,
                url=f"https://example.com/{i}",
                url_key=f"https://example.com/{i}",
                provider="generic",
                position=i,
                sync_number=counter + 1 + i,
            )
        )
    db.session.execute(update(Project).where(Project.id == project_id).values(sync_counter=counter + 501))
    db.session.commit()
    body = page(owner, project_id)
    assert row_count(body) == 500 and body["has_more"] is True
    rest = page(owner, project_id, body["cursor"])
    assert row_count(rest) == 2 and rest["has_more"] is False


def test_fetcher_round_trip_matches_the_live_state(
    owner: TokenClient, user: Any, make: Factory, project_id: str
) -> None:
    task = make.task(user, project_id)
    links.add_link(user, project_id, task.id, {"url": "https://example.com/x"})
    fetch = api_fetcher(owner, project_id)
    body = fetch(0, 10)
    tasks, link_rows = live_state(project_id)
    assert {t["id"]: t for t in body["tasks"]["updated"]} == tasks
    assert {row["id"]: row for row in body["task_links"]["updated"]} == link_rows
