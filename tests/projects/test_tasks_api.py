"""Tasks over JSON (SPEC §1, §3): shape, validation, hierarchy, roll-up, order, soft delete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from tests.conftest import Factory, TokenClient
from tests.projects.helpers import assert_error, assert_iso_z
from tests.support.shapes import TASK_FIELDS as TASK_KEYS


@pytest.fixture
def tasks(owner: TokenClient, project: dict[str, Any]) -> Callable[..., Any]:
    """tasks(method, suffix='', body=None) against this project's task routes."""
    base = f"/api/v1/projects/{project['id']}/tasks/"

    def call(method: str, suffix: str = "", body: Any = None) -> Any:
        return owner.api(method, base + suffix, body)

    return call


def _create(tasks: Callable[..., Any], **fields: Any) -> dict[str, Any]:
    response = tasks("POST", "", fields)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def _get(tasks: Callable[..., Any], task_id: str) -> dict[str, Any]:
    response = tasks("GET", f"{task_id}/")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def _names(tasks: Callable[..., Any]) -> list[str]:
    response = tasks("GET")
    assert response.status_code == 200
    return [t["name"] for t in response.get_json()]


# --- shape ------------------------------------------------------------------------------------


def test_create_answers_201_with_the_task_shape(tasks: Callable[..., Any], project: dict[str, Any]) -> None:
    response = tasks(
        "POST",
        "",
        {
            "name": "  Write spec  ",
            "description": "Plain *text*",
            "start_date": "2026-03-02",
            "finish_date": "2026-03-06",
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == TASK_KEYS
    assert isinstance(body["id"], str) and body["id"]
    assert body["project_id"] == project["id"]
    assert body["parent_id"] is None
    assert body["name"] == "Write spec"
    assert body["description"] == "Plain *text*"
    assert body["start_date"] == "2026-03-02"
    assert body["finish_date"] == "2026-03-06"
    assert body["is_milestone"] is False
    assert body["is_summary"] is False
    assert body["assignee_ids"] == []
    assert body["position"] == 0
    assert body["external_link_summary"] == {"count": 0, "worst_status": None}
    assert_iso_z(body["created_at"])
    assert_iso_z(body["updated_at"])
    # The detail and the list say the same.
    assert _get(tasks, body["id"]) == body
    assert tasks("GET").get_json() == [body]


def test_minimal_task_gets_dates_and_an_empty_description(tasks: Callable[..., Any]) -> None:
    body = _create(tasks, name="Just a name")
    assert body["description"] == ""
    start, finish = date.fromisoformat(body["start_date"]), date.fromisoformat(body["finish_date"])
    assert start <= finish


def test_list_is_a_bare_array(tasks: Callable[..., Any]) -> None:
    response = tasks("GET")
    assert response.status_code == 200
    assert response.get_json() == []


# --- validation -------------------------------------------------------------------------------


def test_bad_names_are_refused_on_create(tasks: Callable[..., Any]) -> None:
    for name in ("", "   ", "x" * 201, None, 5, ["a"], {"a": 1}, True):
        response = tasks("POST", "", {"name": name})
        assert response.status_code == 400, (name, response.get_json())
        assert_error(response, 400, "validation_error", "name")
    assert _names(tasks) == []


def test_missing_name_is_refused(tasks: Callable[..., Any]) -> None:
    assert_error(tasks("POST", "", {"description": "no name"}), 400, "validation_error", "name")


def test_name_limits_are_1_to_200_characters(tasks: Callable[..., Any]) -> None:
    assert _create(tasks, name="x")["name"] == "x"
    assert _create(tasks, name="y" * 200)["name"] == "y" * 200


@pytest.mark.parametrize("name", ["", "  ", "z" * 201, 5, None])
def test_bad_names_are_refused_on_patch(tasks: Callable[..., Any], name: Any) -> None:
    task = _create(tasks, name="Keep me")
    assert_error(tasks("PATCH", f"{task['id']}/", {"name": name}), 400, "validation_error", "name")
    assert _get(tasks, task["id"])["name"] == "Keep me"


def test_finish_before_start_is_reported_on_finish_date(tasks: Callable[..., Any]) -> None:
    response = tasks("POST", "", {"name": "Backwards", "start_date": "2026-03-10", "finish_date": "2026-03-09"})
    body = assert_error(response, 400, "validation_error", "finish_date")
    assert "start_date" not in body["fields"]
    assert _names(tasks) == []


def test_patch_finish_before_existing_start_is_refused(tasks: Callable[..., Any]) -> None:
    task = _create(tasks, name="T", start_date="2026-03-10", finish_date="2026-03-12")
    assert_error(
        tasks("PATCH", f"{task['id']}/", {"finish_date": "2026-03-01"}), 400, "validation_error", "finish_date"
    )
    assert_error(tasks("PATCH", f"{task['id']}/", {"start_date": "2026-03-20"}), 400, "validation_error", "finish_date")
    assert _get(tasks, task["id"])["finish_date"] == "2026-03-12"


def test_same_day_task_is_fine(tasks: Callable[..., Any]) -> None:
    body = _create(tasks, name="One day", start_date="2026-03-10", finish_date="2026-03-10")
    assert body["start_date"] == body["finish_date"] == "2026-03-10"


def test_unreal_dates_are_refused(tasks: Callable[..., Any]) -> None:
    for value in ("2026-02-30", "tomorrow", "03/10/2026", "2026-13-01"):
        for field in ("start_date", "finish_date"):
            response = tasks("POST", "", {"name": "T", field: value})
            assert response.status_code == 400, (field, value, response.get_json())
            assert_error(response, 400, "validation_error", field)
    assert _names(tasks) == []


def test_milestone_start_must_equal_finish(tasks: Callable[..., Any]) -> None:
    response = tasks(
        "POST", "", {"name": "Launch", "is_milestone": True, "start_date": "2026-04-01", "finish_date": "2026-04-02"}
    )
    assert_error(response, 400, "validation_error", "finish_date")
    ok = _create(tasks, name="Launch", is_milestone=True, start_date="2026-04-01", finish_date="2026-04-01")
    assert ok["is_milestone"] is True
    assert_error(
        tasks("PATCH", f"{ok['id']}/", {"start_date": "2026-04-01", "finish_date": "2026-04-03"}),
        400,
        "validation_error",
        "finish_date",
    )
    assert _get(tasks, ok["id"])["finish_date"] == "2026-04-01"


def test_milestone_with_one_date_takes_it_for_both(tasks: Callable[..., Any]) -> None:
    started = _create(tasks, name="Go", is_milestone=True, start_date="2026-05-05")
    assert started["start_date"] == started["finish_date"] == "2026-05-05"
    finished = _create(tasks, name="Done", is_milestone=True, finish_date="2030-05-05")
    assert finished["start_date"] == finished["finish_date"] == "2030-05-05"


def test_moving_one_date_of_a_milestone_moves_both(tasks: Callable[..., Any]) -> None:
    milestone = _create(tasks, name="Go", is_milestone=True, start_date="2026-05-05")
    moved = tasks("PATCH", f"{milestone['id']}/", {"start_date": "2026-06-01"})
    assert moved.status_code == 200, moved.get_json()
    assert (moved.get_json()["start_date"], moved.get_json()["finish_date"]) == ("2026-06-01", "2026-06-01")
    moved = tasks("PATCH", f"{milestone['id']}/", {"finish_date": "2026-07-01"})
    assert moved.status_code == 200, moved.get_json()
    assert (moved.get_json()["start_date"], moved.get_json()["finish_date"]) == ("2026-07-01", "2026-07-01")


def test_turning_a_long_task_into_a_milestone_needs_equal_dates(tasks: Callable[..., Any]) -> None:
    task = _create(tasks, name="T", start_date="2026-03-10", finish_date="2026-03-12")
    assert_error(tasks("PATCH", f"{task['id']}/", {"is_milestone": True}), 400, "validation_error", "finish_date")
    response = tasks("PATCH", f"{task['id']}/", {"is_milestone": True, "finish_date": "2026-03-10"})
    assert response.status_code == 200
    assert response.get_json()["is_milestone"] is True


def test_description_is_kept_as_plain_text(tasks: Callable[..., Any]) -> None:
    text = "<script>alert(1)</script>\n\n**bold**"
    task = _create(tasks, name="T", description=text)
    assert task["description"] == text.strip()
    assert_error(tasks("POST", "", {"name": "T", "description": 5}), 400, "validation_error", "description")


# --- hierarchy --------------------------------------------------------------------------------


def test_parent_from_another_project_is_refused(owner: TokenClient, tasks: Callable[..., Any], make: Factory) -> None:
    other = owner.api("POST", "/api/v1/projects/", {"name": "Other"}).get_json()
    foreign = make.task(owner.user, other["id"], name="Foreign")
    assert_error(tasks("POST", "", {"name": "Child", "parent_id": foreign.id}), 400, "validation_error", "parent_id")
    mine = _create(tasks, name="Mine")
    assert_error(tasks("PATCH", f"{mine['id']}/", {"parent_id": foreign.id}), 400, "validation_error", "parent_id")
    assert _get(tasks, mine["id"])["parent_id"] is None


def test_unknown_or_malformed_parent_is_refused(tasks: Callable[..., Any]) -> None:
    for parent_id in ("no-such-task", "0" * 32, 5, [], {}, True):
        response = tasks("POST", "", {"name": "Orphan", "parent_id": parent_id})
        assert response.status_code == 400, (parent_id, response.get_json())
        assert_error(response, 400, "validation_error", "parent_id")
    assert _names(tasks) == []


def test_removed_parent_is_refused(tasks: Callable[..., Any]) -> None:
    gone = _create(tasks, name="Gone")
    assert tasks("DELETE", f"{gone['id']}/").status_code == 204
    assert_error(tasks("POST", "", {"name": "Child", "parent_id": gone["id"]}), 400, "validation_error", "parent_id")


def test_cycles_are_refused(tasks: Callable[..., Any]) -> None:
    top = _create(tasks, name="Top")
    child = _create(tasks, name="Child", parent_id=top["id"])
    grandchild = _create(tasks, name="Grandchild", parent_id=child["id"])
    for new_parent in (top["id"], child["id"], grandchild["id"]):
        assert_error(tasks("PATCH", f"{top['id']}/", {"parent_id": new_parent}), 400, "validation_error", "parent_id")
    assert_error(
        tasks("PATCH", f"{child['id']}/", {"parent_id": grandchild["id"]}), 400, "validation_error", "parent_id"
    )
    assert _get(tasks, top["id"])["parent_id"] is None
    assert _get(tasks, child["id"])["parent_id"] == top["id"]


def test_milestone_cannot_be_a_parent(tasks: Callable[..., Any]) -> None:
    milestone = _create(tasks, name="M", is_milestone=True, start_date="2026-04-01")
    assert_error(
        tasks("POST", "", {"name": "Under", "parent_id": milestone["id"]}), 400, "validation_error", "parent_id"
    )


def test_summary_dates_roll_up_from_children(tasks: Callable[..., Any]) -> None:
    parent = _create(tasks, name="Phase", start_date="2026-01-01", finish_date="2026-01-01")
    a = _create(tasks, name="A", parent_id=parent["id"], start_date="2026-03-02", finish_date="2026-03-05")
    _create(tasks, name="B", parent_id=parent["id"], start_date="2026-03-04", finish_date="2026-03-20")
    rolled = _get(tasks, parent["id"])
    assert rolled["is_summary"] is True
    assert (rolled["start_date"], rolled["finish_date"]) == ("2026-03-02", "2026-03-20")
    assert rolled["updated_at"] >= parent["updated_at"]

    moved = tasks("PATCH", f"{a['id']}/", {"start_date": "2026-02-20"})
    assert moved.status_code == 200
    assert _get(tasks, parent["id"])["start_date"] == "2026-02-20"


def test_roll_up_goes_all_the_way_up(tasks: Callable[..., Any]) -> None:
    top = _create(tasks, name="Top")
    middle = _create(tasks, name="Middle", parent_id=top["id"])
    _create(tasks, name="Leaf", parent_id=middle["id"], start_date="2027-06-01", finish_date="2027-06-30")
    for task_id in (top["id"], middle["id"]):
        got = _get(tasks, task_id)
        assert got["is_summary"] is True
        assert (got["start_date"], got["finish_date"]) == ("2027-06-01", "2027-06-30")


def test_summary_dates_cannot_be_set_directly(tasks: Callable[..., Any]) -> None:
    parent = _create(tasks, name="Phase")
    _create(tasks, name="Child", parent_id=parent["id"], start_date="2026-03-02", finish_date="2026-03-05")
    response = tasks("PATCH", f"{parent['id']}/", {"finish_date": "2026-12-31"})
    assert_error(response, 400, "validation_error")
    assert _get(tasks, parent["id"])["finish_date"] == "2026-03-05"
    assert_error(tasks("PATCH", f"{parent['id']}/", {"is_milestone": True}), 400, "validation_error", "is_milestone")


def test_removing_the_last_child_makes_the_parent_plain(tasks: Callable[..., Any]) -> None:
    parent = _create(tasks, name="Phase")
    one = _create(tasks, name="One", parent_id=parent["id"])
    two = _create(tasks, name="Two", parent_id=parent["id"])
    assert tasks("DELETE", f"{one['id']}/").status_code == 204
    assert _get(tasks, parent["id"])["is_summary"] is True
    assert tasks("DELETE", f"{two['id']}/").status_code == 204
    assert _get(tasks, parent["id"])["is_summary"] is False


def test_moving_the_last_child_away_makes_the_parent_plain(tasks: Callable[..., Any]) -> None:
    first = _create(tasks, name="First")
    second = _create(tasks, name="Second")
    child = _create(tasks, name="Child", parent_id=first["id"], start_date="2026-08-01", finish_date="2026-08-09")
    response = tasks("PATCH", f"{child['id']}/", {"parent_id": second["id"]})
    assert response.status_code == 200
    assert response.get_json()["parent_id"] == second["id"]
    assert _get(tasks, first["id"])["is_summary"] is False
    moved_to = _get(tasks, second["id"])
    assert moved_to["is_summary"] is True
    assert (moved_to["start_date"], moved_to["finish_date"]) == ("2026-08-01", "2026-08-09")
    # And back to the top level.
    top = tasks("PATCH", f"{child['id']}/", {"parent_id": None})
    assert top.get_json()["parent_id"] is None
    assert _get(tasks, second["id"])["is_summary"] is False


def test_list_is_in_outline_order(tasks: Callable[..., Any]) -> None:
    a = _create(tasks, name="A")
    _create(tasks, name="B")
    _create(tasks, name="A.1", parent_id=a["id"])
    a2 = _create(tasks, name="A.2", parent_id=a["id"])
    _create(tasks, name="A.2.1", parent_id=a2["id"])
    assert _names(tasks) == ["A", "A.1", "A.2", "A.2.1", "B"]


# --- positions --------------------------------------------------------------------------------


def test_positions_among_siblings(tasks: Callable[..., Any]) -> None:
    a = _create(tasks, name="A")
    b = _create(tasks, name="B")
    c = _create(tasks, name="C")
    assert [a["position"], b["position"], c["position"]] == [0, 1, 2]
    first = _create(tasks, name="First", position=0)
    assert first["position"] == 0
    assert _names(tasks) == ["First", "A", "B", "C"]
    assert [t["position"] for t in tasks("GET").get_json()] == [0, 1, 2, 3]

    moved = tasks("PATCH", f"{c['id']}/", {"position": 1})
    assert moved.status_code == 200
    assert moved.get_json()["position"] == 1
    assert _names(tasks) == ["First", "C", "A", "B"]
    last = tasks("PATCH", f"{first['id']}/", {"position": 99})
    assert last.get_json()["position"] == 3
    assert _names(tasks) == ["C", "A", "B", "First"]


def test_positions_close_up_after_a_removal(tasks: Callable[..., Any]) -> None:
    a = _create(tasks, name="A")
    _create(tasks, name="B")
    _create(tasks, name="C")
    tasks("DELETE", f"{a['id']}/")
    assert [(t["name"], t["position"]) for t in tasks("GET").get_json()] == [("B", 0), ("C", 1)]


def test_bad_positions_are_refused(tasks: Callable[..., Any]) -> None:
    task = _create(tasks, name="T")
    for position in (-1, True, False, 1.5, "1", None, [0]):
        for method, suffix in (("POST", ""), ("PATCH", f"{task['id']}/")):
            response = tasks(method, suffix, {"name": "X", "position": position})
            assert response.status_code == 400, (method, position, response.get_json())
            assert_error(response, 400, "validation_error", "position")
    assert _names(tasks) == ["T"]


# --- assignees --------------------------------------------------------------------------------


def test_assignees_must_be_members(
    make: Factory, owner: TokenClient, project: dict[str, Any], tasks: Callable[..., Any]
) -> None:
    member = make.member(owner.user, project["id"], "member")
    viewer = make.member(owner.user, project["id"], "viewer")
    outsider = make.user()
    task = _create(tasks, name="Shared", assignee_ids=[member.id, owner.user.id, member.id])
    assert sorted(task["assignee_ids"]) == sorted([member.id, owner.user.id])
    assert_error(
        tasks("POST", "", {"name": "X", "assignee_ids": [outsider.id]}), 400, "validation_error", "assignee_ids"
    )
    assert_error(
        tasks("PATCH", f"{task['id']}/", {"assignee_ids": [member.id, "nobody"]}),
        400,
        "validation_error",
        "assignee_ids",
    )
    assert sorted(_get(tasks, task["id"])["assignee_ids"]) == sorted([member.id, owner.user.id])
    changed = tasks("PATCH", f"{task['id']}/", {"assignee_ids": [viewer.id]})
    assert changed.get_json()["assignee_ids"] == [viewer.id]
    cleared = tasks("PATCH", f"{task['id']}/", {"assignee_ids": []})
    assert cleared.get_json()["assignee_ids"] == []


def test_malformed_assignees_are_refused(tasks: Callable[..., Any]) -> None:
    for value in ("x", 5, None, {"id": "x"}, [5], [None], [["a"]]):
        response = tasks("POST", "", {"name": "X", "assignee_ids": value})
        assert response.status_code == 400, (value, response.get_json())
        assert_error(response, 400, "validation_error", "assignee_ids")
    assert _names(tasks) == []


# --- patch ------------------------------------------------------------------------------------


def test_patch_changes_only_what_it_is_given(tasks: Callable[..., Any]) -> None:
    task = _create(tasks, name="Before", description="Notes", start_date="2026-03-02", finish_date="2026-03-06")
    response = tasks("PATCH", f"{task['id']}/", {"name": "After"})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == TASK_KEYS
    assert body["name"] == "After"
    for key in (
        "description",
        "start_date",
        "finish_date",
        "is_milestone",
        "parent_id",
        "assignee_ids",
        "position",
        "created_at",
        "project_id",
        "id",
    ):
        assert body[key] == task[key], key
    empty = tasks("PATCH", f"{task['id']}/", {})
    assert empty.status_code == 200
    assert empty.get_json()["name"] == "After"
    cleared = tasks("PATCH", f"{task['id']}/", {"description": ""})
    assert cleared.get_json()["description"] == ""


def test_client_cannot_write_derived_fields(tasks: Callable[..., Any]) -> None:
    task = _create(
        tasks,
        name="T",
        is_summary=True,
        id="chosen",
        project_id="elsewhere",
        external_link_summary={"count": 9, "worst_status": "closed"},
    )
    assert task["is_summary"] is False
    assert task["id"] != "chosen"
    assert task["external_link_summary"] == {"count": 0, "worst_status": None}
    assert _get(tasks, task["id"])["project_id"] != "elsewhere"


# --- soft delete ------------------------------------------------------------------------------


def test_delete_is_204_and_the_task_is_gone(tasks: Callable[..., Any]) -> None:
    keep = _create(tasks, name="Keep")
    parent = _create(tasks, name="Parent")
    child = _create(tasks, name="Child", parent_id=parent["id"])
    grandchild = _create(tasks, name="Grandchild", parent_id=child["id"])
    response = tasks("DELETE", f"{parent['id']}/")
    assert response.status_code == 204
    assert response.get_data() == b""
    for gone in (parent, child, grandchild):
        assert_error(tasks("GET", f"{gone['id']}/"), 404, "not_found")
        assert_error(tasks("PATCH", f"{gone['id']}/", {"name": "Zombie"}), 404, "not_found")
        assert_error(tasks("DELETE", f"{gone['id']}/"), 404, "not_found")
    assert [t["id"] for t in tasks("GET").get_json()] == [keep["id"]]


def test_task_of_another_project_is_404_here(owner: TokenClient, make: Factory, tasks: Callable[..., Any]) -> None:
    other = owner.api("POST", "/api/v1/projects/", {"name": "Other"}).get_json()
    foreign = make.task(owner.user, other["id"], name="Foreign")
    for method, body in (("GET", None), ("PATCH", {"name": "Stolen"}), ("DELETE", None)):
        assert_error(tasks(method, f"{foreign.id}/", body), 404, "not_found")
    got = owner.api("GET", f"/api/v1/projects/{other['id']}/tasks/{foreign.id}/")
    assert got.get_json()["name"] == "Foreign"


def test_viewer_cannot_write_tasks(
    owner: TokenClient, project: dict[str, Any], tasks: Callable[..., Any], as_role: Callable[[str], TokenClient]
) -> None:
    task = _create(tasks, name="T")
    viewer = as_role("viewer")
    base = f"/api/v1/projects/{project['id']}/tasks/"
    assert_error(viewer.api("POST", base, {"name": "V"}), 403, "forbidden")
    assert_error(viewer.api("PATCH", f"{base}{task['id']}/", {"name": "V"}), 403, "forbidden")
    assert_error(viewer.api("DELETE", f"{base}{task['id']}/"), 403, "forbidden")
    assert _names(tasks) == ["T"]


# --- queries ----------------------------------------------------------------------------------


def test_task_list_query_count_does_not_grow_with_tasks(
    app: Any, make: Factory, owner: TokenClient, project: dict[str, Any], count_queries: Any
) -> None:
    pid = project["id"]
    people = [make.member(owner.user, pid, "member") for _ in range(3)]
    url = f"/api/v1/projects/{pid}/tasks/"

    def add(n: int) -> None:
        for i in range(n):
            parent = make.task(owner.user, pid, name=f"Phase {i}")
            make.task(
                owner.user, pid, name=f"Step {i}", parent_id=parent.id, assignee_ids=[people[i % 3].id, owner.user.id]
            )

    add(5)
    owner.api("GET", url)  # warm up
    with count_queries() as small:
        response = owner.api("GET", url)
    assert len(response.get_json()) == 10
    add(95)
    with count_queries() as large:
        response = owner.api("GET", url)
    body = response.get_json()
    assert len(body) == 200
    assert all(len(t["assignee_ids"]) == 2 for t in body if t["parent_id"])
    assert small.count == large.count, (small.statements, large.statements)
