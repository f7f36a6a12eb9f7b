"""Task state (SPEC §21): the fields in JSON and sync rows, a person's PATCH, summaries derived
from their leaves, the `?state=` filter, and the `overdue` attention code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ppm.models_base import utc_today
from tests.projects.helpers import assert_error
from tests.webhooks.conftest import Hooks


def day(offset: int) -> str:
    return (utc_today() + timedelta(days=offset)).isoformat()


def tasks_url(hooks: Hooks, task_id: str = "") -> str:
    return f"/api/v1/projects/{hooks.project_id}/tasks/" + (f"{task_id}/" if task_id else "")


def new_task(hooks: Hooks, **fields: Any) -> str:
    fields.setdefault("name", "A task")
    response = hooks.member.api("POST", tasks_url(hooks), json=fields)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def get(hooks: Hooks, task_id: str) -> dict[str, Any]:
    response = hooks.viewer.api("GET", tasks_url(hooks, task_id))
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def patch(hooks: Hooks, task_id: str, client: Any = None, **body: Any) -> Any:
    return (client or hooks.member).api("PATCH", tasks_url(hooks, task_id), json=body)


def listed(hooks: Hooks, query: str = "") -> dict[str, dict[str, Any]]:
    response = hooks.viewer.api("GET", tasks_url(hooks) + query)
    assert response.status_code == 200, response.get_json()
    return {row["id"]: row for row in response.get_json()}


def synced(hooks: Hooks, since: int = 0) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in hooks.sync(since)["tasks"]["updated"]}


# --- the fields --------------------------------------------------------------------------


def test_a_new_task_is_to_do_in_json_list_and_sync(hooks: Hooks) -> None:
    task = new_task(hooks)
    for row in (get(hooks, task), listed(hooks)[task], synced(hooks)[task]):
        assert (row["state"], row["done_at"], row["state_source"]) == ("todo", None, "person")


def test_a_member_sets_done_and_back_with_done_at_and_a_sync_number_each_time(hooks: Hooks) -> None:
    task = new_task(hooks)
    cursor = hooks.sync()["cursor"]
    done = patch(hooks, task, state="done")
    assert done.status_code == 200
    body = done.get_json()
    assert (body["state"], body["state_source"]) == ("done", "person") and body["done_at"]
    row = synced(hooks, cursor)[task]
    assert (row["state"], row["done_at"]) == ("done", body["done_at"])
    cursor = hooks.sync()["cursor"]
    back = patch(hooks, task, state="in_progress").get_json()
    assert (back["state"], back["done_at"]) == ("in_progress", None)
    assert synced(hooks, cursor)[task]["state"] == "in_progress"
    assert listed(hooks)[task]["state"] == "in_progress"


def test_setting_the_same_state_again_keeps_done_at(hooks: Hooks) -> None:
    task = new_task(hooks)
    first = patch(hooks, task, state="done").get_json()["done_at"]
    assert patch(hooks, task, state="done").get_json()["done_at"] == first


@pytest.mark.parametrize("value", ["finished", "DONE", "", None, 1, True, ["done"]])
def test_another_value_is_a_validation_error_on_state(hooks: Hooks, value: Any) -> None:
    task = new_task(hooks)
    assert_error(patch(hooks, task, state=value), 400, "validation_error", "state")
    assert get(hooks, task)["state"] == "todo"


def test_a_viewer_cannot_set_state_and_a_stranger_does_not_see_the_task(hooks: Hooks) -> None:
    task = new_task(hooks)
    assert_error(patch(hooks, task, hooks.viewer, state="done"), 403, "forbidden")
    assert_error(patch(hooks, task, hooks.stranger, state="done"), 404, "not_found")
    assert get(hooks, task)["state"] == "todo"


def test_milestones_have_a_state_like_any_task(hooks: Hooks) -> None:
    gate = new_task(hooks, name="Gate", start_date=day(1), is_milestone=True)
    assert patch(hooks, gate, state="done").get_json()["state"] == "done"


# --- summaries ---------------------------------------------------------------------------


def test_a_summary_state_is_derived_from_its_leaves_and_cannot_be_set(hooks: Hooks) -> None:
    summary = new_task(hooks, name="Summary")
    inner = new_task(hooks, name="Inner", parent_id=summary)
    a = new_task(hooks, name="A", parent_id=summary)
    b = new_task(hooks, name="B", parent_id=inner)
    c = new_task(hooks, name="C", parent_id=inner)
    assert [get(hooks, t)["state"] for t in (summary, inner)] == ["todo", "todo"]
    cursor = hooks.sync()["cursor"]
    patch(hooks, b, state="in_progress")
    assert [get(hooks, t)["state"] for t in (summary, inner)] == ["in_progress", "in_progress"]
    assert {summary, inner, b} <= set(synced(hooks, cursor))  # the derived states travel too
    patch(hooks, b, state="done")
    patch(hooks, c, state="done")
    assert [get(hooks, t)["state"] for t in (summary, inner)] == ["in_progress", "done"]
    assert get(hooks, inner)["done_at"]
    patch(hooks, a, state="done")
    assert listed(hooks)[summary]["state"] == "done"
    assert_error(patch(hooks, summary, state="todo"), 400, "validation_error", "state")
    patch(hooks, c, state="todo")
    assert [get(hooks, t)["state"] for t in (summary, inner)] == ["in_progress", "in_progress"]
    assert get(hooks, summary)["done_at"] is None


def test_a_done_task_that_gains_a_subtask_derives_its_state_from_it(hooks: Hooks) -> None:
    parent = new_task(hooks, name="Parent")
    patch(hooks, parent, state="done")
    child = new_task(hooks, name="Child", parent_id=parent)
    assert get(hooks, parent)["state"] == "todo"
    patch(hooks, child, state="done")
    assert get(hooks, parent)["state"] == "done"


# --- the filter --------------------------------------------------------------------------


def test_the_state_filter_keeps_tasks_in_any_of_the_states(hooks: Hooks) -> None:
    started = new_task(hooks, name="Started")
    done = new_task(hooks, name="Done")
    patch(hooks, started, state="in_progress")
    patch(hooks, done, state="done")
    todo = {hooks.task_id}
    assert set(listed(hooks, "?state=todo")) == todo
    assert set(listed(hooks, "?state=todo,in_progress")) == {*todo, started}
    assert set(listed(hooks, "?state=done&state=in_progress")) == {done, started}
    assert set(listed(hooks, "?state=")) == {*todo, started, done}
    assert set(listed(hooks, "?state=done&attention=overdue")) == set()


@pytest.mark.parametrize("value", ["nope", "todo,nope", "TODO", "todo;done", "in progress"])
def test_an_unknown_state_in_the_filter_is_a_400_on_state(hooks: Hooks, value: str) -> None:
    response = hooks.viewer.api("GET", tasks_url(hooks) + f"?state={value}")
    body = assert_error(response, 400, "validation_error", "state")
    assert "in_progress" in body["fields"]["state"][0]


# --- overdue (SPEC §21 changes §16) -------------------------------------------------------


def codes(hooks: Hooks, task_id: str) -> list[str]:
    detail = get(hooks, task_id)["attention"]
    assert listed(hooks)[task_id]["attention"] == detail
    return list(detail)


def test_overdue_is_a_task_not_done_finishing_before_today(hooks: Hooks) -> None:
    late = new_task(hooks, start_date=day(-5), finish_date=day(-1))
    today = new_task(hooks, start_date=day(-5), finish_date=day(0))
    assert codes(hooks, late) == ["overdue"]
    assert codes(hooks, today) == []
    patch(hooks, late, state="in_progress")
    assert codes(hooks, late) == ["overdue"]
    patch(hooks, late, state="done")
    assert codes(hooks, late) == []


def test_a_done_task_is_never_overdue_open_and_overdue_comes_right_after_it(hooks: Hooks) -> None:
    task = new_task(hooks, start_date=day(-5), finish_date=day(-1))
    hooks.link("https://github.com/acme/api/issues/3", task_id=task)  # unknown status
    from ppm.extensions import db
    from ppm.links.models import TaskLink

    for row in db.session.query(TaskLink).filter_by(task_id=task):
        row.status = "open"
    db.session.commit()
    assert codes(hooks, task)[:2] == ["overdue_open", "overdue"]
    patch(hooks, task, state="done")
    assert "overdue_open" not in codes(hooks, task) and "overdue" not in codes(hooks, task)


def test_a_missed_milestone_is_overdue_and_a_summary_never(hooks: Hooks) -> None:
    gate = new_task(hooks, name="Gate", start_date=day(-2), is_milestone=True)
    summary = new_task(hooks, name="Summary")
    child = new_task(hooks, name="Child", parent_id=summary, start_date=day(-9), finish_date=day(-2))
    assert codes(hooks, gate) == ["overdue"]
    assert codes(hooks, child) == ["overdue"]
    assert codes(hooks, summary) == []
    assert set(listed(hooks, "?attention=overdue")) == {gate, child, hooks.task_id}  # its task ended in March
    patch(hooks, gate, state="done")
    assert codes(hooks, gate) == []
