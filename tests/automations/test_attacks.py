# ruff: noqa: F811 - pytest fixtures imported from the suites' conftests are parameters here
"""Attack tests (SPEC §21): a summary's state cannot be set, only admins switch
automations, hostile state values are 400, and an archived project never changes — not by a
person, not by a merged pull request with done_on_merge on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.webhooks.conftest import (  # noqa: F401 - fixtures reused here
    Hooks,
    app_config,
    egress_calls,
    github_example,
    hooks,
    live_server,
    net,
    provider,
)


def _task_url(hooks: Hooks, task_id: str) -> str:
    return f"/api/v1/projects/{hooks.project_id}/tasks/{task_id}/"


def _child(hooks: Hooks, parent_id: str, name: str = "Child") -> dict[str, Any]:
    response = hooks.member.api(
        "POST",
        f"/api/v1/projects/{hooks.project_id}/tasks/",
        json={"name": name, "parent_id": parent_id, "start_date": "2026-03-02", "finish_date": "2026-03-06"},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("value", ["done", "todo", "in_progress"])
def test_state_of_a_summary_is_400(hooks: Hooks, value: str) -> None:
    child = _child(hooks, hooks.task_id)
    response = hooks.member.api("PATCH", _task_url(hooks, hooks.task_id), json={"state": value})
    assert response.status_code == 400 and "state" in response.get_json()["fields"]
    # Together with a harmless field: still 400 and nothing changes.
    response = hooks.member.api("PATCH", _task_url(hooks, hooks.task_id), json={"state": value, "name": "Renamed"})
    assert response.status_code == 400
    task = hooks.viewer.api("GET", _task_url(hooks, hooks.task_id)).get_json()
    assert task["name"] == "Ship it" and task["state"] == "todo"
    assert hooks.viewer.api("GET", _task_url(hooks, child["id"])).get_json()["state"] == "todo"


@pytest.mark.parametrize("value", [None, "DONE", "done ", "done\x00", ["done"], {"s": 1}, 1, True, "x" * 10_000])
def test_hostile_state_values_are_400(hooks: Hooks, value: Any) -> None:
    response = hooks.member.api("PATCH", _task_url(hooks, hooks.task_id), json={"state": value})
    assert response.status_code == 400, (value, response.status_code)
    assert "state" in response.get_json()["fields"]


@pytest.mark.parametrize("query", ["?state=bogus", "?state=done,%00", "?state=" + "x" * 5000, "?state=DONE"])
def test_hostile_state_filters_are_400(hooks: Hooks, query: str) -> None:
    response = hooks.viewer.api("GET", f"/api/v1/projects/{hooks.project_id}/tasks/{query}")
    assert response.status_code == 400, (query[:40], response.status_code)


@pytest.mark.parametrize("who", ["viewer", "member", "stranger"])
def test_only_admins_patch_automations(hooks: Hooks, who: str) -> None:
    url = f"/api/v1/projects/{hooks.project_id}/automations/"
    response = getattr(hooks, who).api("PATCH", url, json={"start_on_open": True, "done_on_merge": True})
    assert response.status_code == (404 if who == "stranger" else 403)
    assert hooks.admin.api("GET", url).get_json() == {"start_on_open": False, "done_on_merge": False}


@pytest.mark.parametrize(
    "body",
    [{"start_on_open": "yes"}, {"done_on_merge": None}, {"start_on_open": 1}, [], "x", {"done_on_merge": [True]}],
)
def test_hostile_automation_bodies_are_400(hooks: Hooks, body: Any) -> None:
    url = f"/api/v1/projects/{hooks.project_id}/automations/"
    response = hooks.admin.api("PATCH", url, json=body)
    assert response.status_code == 400, (body, response.status_code)


def test_an_archived_project_never_changes(hooks: Hooks) -> None:
    url = f"/api/v1/projects/{hooks.project_id}/automations/"
    assert hooks.admin.api("PATCH", url, json={"start_on_open": True, "done_on_merge": True}).status_code == 200
    assert hooks.member.api("PATCH", _task_url(hooks, hooks.task_id), json={"state": "in_progress"}).status_code == 200
    assert hooks.owner.api("POST", f"/api/v1/projects/{hooks.project_id}/archive/").status_code in (200, 204)
    response = hooks.member.api("PATCH", _task_url(hooks, hooks.task_id), json={"state": "done"})
    assert 400 <= response.status_code < 500
    response = hooks.owner.api("PATCH", _task_url(hooks, hooks.task_id), json={"state": "todo"})
    assert 400 <= response.status_code < 500
    response = hooks.admin.api("PATCH", url, json={"done_on_merge": False})
    assert 400 <= response.status_code < 500
    task = hooks.viewer.api("GET", _task_url(hooks, hooks.task_id)).get_json()
    assert task["state"] == "in_progress"
    assert hooks.viewer.api("GET", url).get_json() == {"start_on_open": True, "done_on_merge": True}
