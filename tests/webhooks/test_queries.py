"""A delivery that matches many links costs the same number of queries as one that matches a
few: one SELECT of candidates, one UPDATE batch, one draw of sync numbers (SPEC §13)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ppm.extensions import db
from ppm.links.models import TaskLink
from ppm.links.services import url_key
from ppm.models_base import new_id
from ppm.projects.services import next_sync_numbers
from tests.webhooks.conftest import EXAMPLE_PR, Hooks, github_example


def _bulk_links(hooks: Hooks, count: int, offset: int) -> list[str]:
    """`count` live links to the example pull request's sub-pages on the project's task."""
    numbers = next_sync_numbers(hooks.project_id, count)
    ids = []
    for i, number in enumerate(numbers):
        url = f"{EXAMPLE_PR}/files?page={offset + i}"
        link_id = new_id()
        ids.append(link_id)
        db.session.add(
            TaskLink(
                id=link_id,
                project_id=hooks.project_id,
                task_id=hooks.task_id,
                url=url,
                url_key=url_key(url),
                provider="github",
                position=offset + i,
                sync_number=number,
            )
        )
    db.session.commit()
    return ids


def _deliver(hooks: Hooks, hook: Any, count_queries: Any, updated_at: str) -> tuple[Any, list[str]]:
    payload = github_example("pull_request.closed")
    payload["pull_request"]["updated_at"] = updated_at
    with count_queries() as counter:
        response = hooks.sender.github(hook, "pull_request", payload)
    return response, counter.statements


def test_query_count_does_not_grow_with_the_links_a_delivery_changes(hooks: Hooks, count_queries: Any) -> None:
    hook = hooks.create()
    few = _bulk_links(hooks, 5, 0)
    response, small = _deliver(hooks, hook, count_queries, "2019-05-15T15:21:18Z")
    assert response.get_json() == {"matched": 5, "linked": 0}

    # 495 more: the next delivery changes all 500 (the first five change status again).
    _bulk_links(hooks, 495, 5)
    payload_time = "2019-05-15T15:30:00Z"
    before = hooks.sync()["cursor"]
    reopened = github_example("pull_request.reopened")
    reopened["pull_request"]["updated_at"] = payload_time
    with count_queries() as counter:
        response = hooks.sender.github(hook, "pull_request", reopened)
    assert response.get_json() == {"matched": 500, "linked": 0}
    assert len(counter.statements) == len(small)
    updates = [s for s in counter.statements if s.lstrip().upper().startswith("UPDATE TASK_LINKS")]
    assert len(updates) == 1  # one batch, whatever its size

    numbers = db.session.scalars(select(TaskLink.sync_number).where(TaskLink.project_id == hooks.project_id)).all()
    assert len(set(numbers)) == len(numbers) == 500
    assert sorted(numbers)[-500:] == list(range(before + 1, before + 501))
    statuses = db.session.execute(select(TaskLink.status, func.count()).group_by(TaskLink.status)).all()
    assert statuses == [("open", 500)]
    assert all(db.session.get(TaskLink, link_id).status == "open" for link_id in few)
