"""The worst status at a glance (SPEC §8): one precedence, computed in the listing query."""

from __future__ import annotations

from typing import Any

import pytest

from ppm.extensions import db
from ppm.links.models import TaskLink
from ppm.links.status import PRECEDENCE, RANK, status_for_rank
from tests.links.conftest import World, add


def set_status(link_id: str, status: str) -> None:
    db.session.get(TaskLink, link_id).status = status
    db.session.commit()


def summary_of(world: World, task_id: str | None = None) -> dict[str, Any]:
    tasks = world.viewer.api("GET", f"/api/v1/projects/{world.project_id}/tasks/").get_json()
    return next(t for t in tasks if t["id"] == (task_id or world.task_id))["external_link_summary"]


def test_precedence_is_closed_draft_open_merged_unknown() -> None:
    assert PRECEDENCE == ("closed", "draft", "open", "merged", "unknown")
    assert [status_for_rank(RANK[s]) for s in PRECEDENCE] == list(PRECEDENCE)
    assert sorted(["merged", "open", "unknown"], key=RANK.__getitem__)[0] == "open"


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], None),
        (["unknown"], "unknown"),
        (["merged", "unknown"], "merged"),
        (["merged", "open"], "open"),
        (["open", "draft", "merged"], "draft"),
        (["draft", "closed", "open"], "closed"),
    ],
)
def test_task_list_summary(world: World, statuses: list[str], expected: str | None) -> None:
    for n, status in enumerate(statuses):
        link = add(world.member, world, f"https://example.org/{n}").get_json()
        set_status(link["id"], status)
    assert summary_of(world) == {"count": len(statuses), "worst_status": expected}


def test_removed_links_do_not_count(world: World) -> None:
    closed = add(world.member, world, "https://example.org/closed").get_json()
    set_status(closed["id"], "closed")
    merged = add(world.member, world, "https://example.org/merged").get_json()
    set_status(merged["id"], "merged")
    world.member.api("DELETE", world.links_url() + f"{closed['id']}/")
    assert summary_of(world) == {"count": 1, "worst_status": "merged"}
    detail = world.viewer.api("GET", f"/api/v1/projects/{world.project_id}/tasks/{world.task_id}/")
    assert detail.get_json()["external_link_summary"] == {"count": 1, "worst_status": "merged"}


def test_summary_on_create_and_patch_responses(world: World) -> None:
    link = add(world.member, world, "https://example.org/x").get_json()
    set_status(link["id"], "draft")
    patched = world.member.api(
        "PATCH", f"/api/v1/projects/{world.project_id}/tasks/{world.task_id}/", json={"name": "Renamed"}
    )
    assert patched.get_json()["external_link_summary"] == {"count": 1, "worst_status": "draft"}
    created = world.member.api("POST", f"/api/v1/projects/{world.project_id}/tasks/", json={"name": "New"})
    assert created.get_json()["external_link_summary"] == {"count": 0, "worst_status": None}


def test_removing_a_task_removes_its_links(world: World, make: Any) -> None:
    child = make.task(world.owner.user, world.project_id, name="Child", parent_id=world.task_id)
    link = add(
        world.member,
        world,
        "https://example.org/x",
    ).get_json()
    child_link = world.member.api("POST", world.links_url(child.id), json={"url": "https://example.org/y"})
    assert child_link.status_code == 201
    world.member.api("DELETE", f"/api/v1/projects/{world.project_id}/tasks/{world.task_id}/")
    rows = db.session.query(TaskLink).all()
    assert len(rows) == 2 and all(row.deleted_at is not None for row in rows)
    assert all(row.sync_number > 0 for row in rows)
    assert world.viewer.api("GET", world.links_url() + f"{link['id']}/").status_code == 404


def _fill(make: Any, world: World, tasks: int, links_per_task: int) -> None:
    for n in range(tasks):
        task = make.task(world.owner.user, world.project_id, name=f"T{n}")
        for k in range(links_per_task):
            db.session.add(
                TaskLink(
                    project_id=world.project_id,
                    task_id=task.id,
                    url=f"https://e.org/{n}/{k}",
                    url_key=f"https://e.org/{n}/{k}",
                    provider="generic",
                    labels=[],
                    status=PRECEDENCE[(n + k) % 5],
                    position=k,
                )
            )
    db.session.commit()


def test_task_list_queries_do_not_grow_with_tasks_or_links(world: World, make: Any, count_queries: Any) -> None:
    url = f"/api/v1/projects/{world.project_id}/tasks/"
    _fill(make, world, 5, 1)
    with count_queries() as small:
        assert world.viewer.api("GET", url).status_code == 200
    _fill(make, world, 120, 4)
    with count_queries() as large:
        response = world.viewer.api("GET", url)
    assert response.status_code == 200 and len(response.get_json()) == 126
    assert large.count == small.count
    summaries = [t["external_link_summary"] for t in response.get_json() if t["name"].startswith("T1")]
    assert all(s["count"] in (1, 4) for s in summaries)


def test_summary_is_aggregated_before_joining(world: World, make: Any, count_queries: Any) -> None:
    _fill(make, world, 3, 3)
    with count_queries() as counter:
        world.viewer.api("GET", f"/api/v1/projects/{world.project_id}/tasks/")
    listing = next(s for s in counter.statements if "task_links" in s)
    assert "GROUP BY task_links.task_id" in listing and "LEFT OUTER JOIN (SELECT" in listing
