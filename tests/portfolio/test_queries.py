"""The portfolio asks the database the same number of times for 1 project as for 1,000 (SPEC
§22), on the page and in the JSON, whatever the sort and filters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from ppm.auth.models import User
from ppm.extensions import db
from ppm.links import services as links
from ppm.links.models import TaskLink
from ppm.models_base import new_id, utc_today, utcnow
from ppm.projects.models import Membership, Project, Task
from ppm.webhooks.models import WebhookReceiver
from tests.conftest import SessionClient, TokenClient

STATUSES = ("open", "draft", "merged", "closed", "unknown")


def bulk_projects(owner: User, count: int) -> None:
    """`count` projects of the owner, each with a summary, two tasks (one late) of two links each
    and a webhook receiver delivered to: every column has something to count."""
    now, today = utcnow(), utc_today()
    projects, members, summaries, tasks, task_links, receivers = [], [], [], [], [], []
    for n in range(count):
        pid = new_id()
        projects.append({"id": pid, "name": f"Project {n:04d}", "archived": n % 7 == 3})
        members.append({"id": new_id(), "project_id": pid, "user_id": owner.id, "role": "owner"})
        parent = new_id()
        summaries.append(
            {
                "id": parent,
                "project_id": pid,
                "name": "Phase",
                "start_date": today,
                "finish_date": today,
                "is_summary": True,
            }
        )
        for k in range(2):
            tid = new_id()
            tasks.append(
                {
                    "id": tid,
                    "project_id": pid,
                    "parent_id": parent,
                    "name": f"Task {k}",
                    "position": k,
                    "start_date": today - timedelta(days=5),
                    "finish_date": today + timedelta(days=k * 2 - 1),
                }
            )
            for j in range(2):
                url = f"https://github.com/acme/p{n}/pull/{k * 2 + j + 1}"
                task_links.append(
                    {
                        "id": new_id(),
                        "project_id": pid,
                        "task_id": tid,
                        "url": url,
                        "url_key": links.url_key(url),
                        "provider": "github",
                        "status": STATUSES[(n + k + j) % len(STATUSES)],
                        "position": j,
                        "fetched_at": now,
                        "checks": "failing" if j else None,
                    }
                )
        receivers.append(
            {
                "id": new_id(),
                "project_id": pid,
                "provider": "github",
                "secret_ciphertext": "x",
                "last_delivery_at": now,
                "last_delivery_result": "ok",
            }
        )
    db.session.execute(insert(Project), projects)
    db.session.execute(insert(Membership), members)
    db.session.execute(insert(Task), summaries)
    db.session.execute(insert(Task), tasks)
    db.session.execute(insert(TaskLink), task_links)
    db.session.execute(insert(WebhookReceiver), receivers)
    db.session.commit()


QUERIES = ["", "?sort=name", "?sort=finish_date&include_archived=1", "?attention_only=1&include_archived=1"]


def _counts(count_queries: Any, get: Any) -> dict[str, int]:
    counts = {}
    for query in QUERIES:
        with count_queries() as counter:
            response = get(query)
            assert response.status_code == 200
        counts[query] = counter.count
    return counts


@pytest.mark.parametrize("face", ["page", "json"])
def test_one_project_and_a_thousand_cost_the_same_queries(
    app: Any, session_client: SessionClient, api_client: TokenClient, count_queries: Any, face: str
) -> None:
    def get(query: str) -> Any:
        if face == "page":
            return session_client.get(f"/portfolio{query}")
        return api_client.api("GET", f"/api/v1/portfolio/{query}")

    bulk_projects(session_client.user, 1)
    one = _counts(count_queries, get)
    shown = get("?include_archived=1")
    assert (shown.get_json() or {"projects": [1]})["projects"]  # there is a row to count
    bulk_projects(session_client.user, 999)
    thousand = _counts(count_queries, get)
    assert thousand == one
    assert max(one.values()) <= 8  # a handful: the person, the projects, the figures, the webhooks
    if face == "json":
        body = get("?include_archived=1").get_json()
        assert len(body["projects"]) == 1000
        assert sum(p["webhooks"]["count"] for p in body["projects"]) == 1000
        assert sum(sum(p["links"].values()) for p in body["projects"]) == 4000
        assert sum(p["tasks"]["total"] for p in body["projects"]) == 2000
        assert sum(p["late"] for p in body["projects"]) == 1000
    else:
        assert get("?include_archived=1").get_data(as_text=True).count('id="portfolio-') >= 1000
