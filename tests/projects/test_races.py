"""SPEC §19's invariants under concurrency, with real threads against the app, on SQLite and on
PostgreSQL (whichever the run uses), many rounds each. Each test asserts the invariant and the
answers' codes, never a timing: whichever request wins, the other gets its refusal."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from ppm.auth.models import User
from ppm.extensions import db
from ppm.links.models import TaskLink
from ppm.projects.models import Membership, Task
from tests.conftest import Factory, TokenClient, client_for
from tests.projects.helpers import assert_error
from tests.support.races import ROUNDS, at_once

TASKS = "/api/v1/projects/{}/tasks/"
MEMBERS = "/api/v1/projects/{}/members/{}/"


def _task(client: TokenClient, project_id: str, name: str, parent_id: str | None = None) -> str:
    response = client.api("POST", TASKS.format(project_id), {"name": name, "parent_id": parent_id})
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["id"])


def _parents(project_id: str) -> dict[str, str | None]:
    db.session.expire_all()
    rows = db.session.execute(
        select(Task.id, Task.parent_id).where(Task.project_id == project_id, Task.deleted_at.is_(None))
    ).all()
    return {task_id: parent for task_id, parent in rows}


def assert_tree(project_id: str) -> None:
    """Every live task reaches the root through live parents: no loop, nothing under a
    removed task."""
    parents = _parents(project_id)
    for task_id in parents:
        seen: set[str] = set()
        current: str | None = task_id
        while current is not None:
            assert current not in seen, f"{task_id} is its own ancestor"
            assert current in parents, f"{task_id} sits under a removed task"
            seen.add(current)
            current = parents[current]
    live_links = db.session.scalars(
        select(TaskLink.task_id).where(TaskLink.project_id == project_id, TaskLink.deleted_at.is_(None))
    )
    assert set(live_links) <= set(parents), "a live link sits on a removed task"


def _two(app: Flask, user: User) -> tuple[TokenClient, TokenClient]:
    return client_for(app, user), client_for(app, user)


def test_opposite_moves_never_make_a_loop(app: Flask, owner: TokenClient, project: dict[str, Any]) -> None:
    pid = project["id"]
    one, two = _two(app, owner.user)
    for round_ in range(ROUNDS):
        a, b = _task(owner, pid, f"A{round_}"), _task(owner, pid, f"B{round_}")
        first, second = at_once(
            partial(one.api, "PATCH", TASKS.format(pid) + f"{a}/", {"parent_id": b}),
            partial(two.api, "PATCH", TASKS.format(pid) + f"{b}/", {"parent_id": a}),
        )
        codes = sorted([first.status_code, second.status_code])
        assert codes == [200, 400], (first.get_data(as_text=True), second.get_data(as_text=True))
        assert_error(first if first.status_code == 400 else second, 400, "validation_error", "parent_id")
        assert_tree(pid)
    listed = owner.api("GET", TASKS.format(pid)).get_json()
    assert len(listed) == 2 * ROUNDS  # nobody vanished from the list


def test_three_way_moves_never_make_a_loop(app: Flask, owner: TokenClient, project: dict[str, Any]) -> None:
    pid = project["id"]
    clients = [client_for(app, owner.user) for _ in range(3)]
    for round_ in range(ROUNDS // 2):
        ids = [_task(owner, pid, f"{name}{round_}") for name in "ABC"]
        answers = at_once(
            *(
                (
                    lambda c=client, t=ids[i], p=ids[(i + 1) % 3]: c.api(
                        "PATCH", TASKS.format(pid) + f"{t}/", {"parent_id": p}
                    )
                )
                for i, client in enumerate(clients)
            )
        )
        assert sorted(a.status_code for a in answers) == [200, 200, 400]
        assert_tree(pid)


@pytest.mark.parametrize("what", ["subtask", "link"])
def test_removing_a_task_while_something_is_added_under_it_leaves_nothing_live_there(
    app: Flask, owner: TokenClient, project: dict[str, Any], what: str
) -> None:
    """Whichever lands first: the add is refused (a subtask's parent is a body field: 400 on
    `parent_id`; a link's task is in its URL: 404), or the removal takes the new row with it."""
    pid = project["id"]
    one, two = _two(app, owner.user)
    model: Any = Task if what == "subtask" else TaskLink
    for round_ in range(ROUNDS):
        parent = _task(owner, pid, f"P{round_}")
        _task(owner, pid, f"child{round_}", parent)
        if what == "subtask":
            add = partial(two.api, "POST", TASKS.format(pid), {"name": f"new{round_}", "parent_id": parent})
        else:
            add = partial(two.api, "POST", TASKS.format(pid) + f"{parent}/links/", {"url": f"https://e.com/{round_}"})
        removed, added = at_once(partial(one.api, "DELETE", TASKS.format(pid) + f"{parent}/"), add)
        assert removed.status_code == 204
        if added.status_code == 201:
            new_id = added.get_json()["id"]
            assert db.session.scalar(select(model.deleted_at).where(model.id == new_id)) is not None
        elif what == "subtask":
            assert_error(added, 400, "validation_error", "parent_id")
        else:
            assert_error(added, 404, "not_found")
        assert_tree(pid)


def _owners(project_id: str) -> int:
    db.session.expire_all()
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.project_id == project_id, Membership.role == "owner")
        )
        or 0
    )


def _two_owner_project(app: Flask, make: Factory, round_: int) -> tuple[str, TokenClient, TokenClient]:
    first, second = make.user(), make.user()
    client = client_for(app, first)
    pid = client.api("POST", "/api/v1/projects/", {"name": f"Two owners {round_}"}).get_json()["id"]
    make.member(first, pid, "owner", user=second)
    return pid, client, client_for(app, second)


@pytest.mark.parametrize(
    ("method", "bodies", "success"),
    [("DELETE", (None, None), 204), ("PATCH", ({"role": "admin"}, {"role": "member"}), 200)],
    ids=["leaving", "stepping-down"],
)
def test_two_owners_leaving_or_stepping_down_at_once_leave_one_owner(
    app: Flask, make: Factory, method: str, bodies: tuple[Any, Any], success: int
) -> None:
    for round_ in range(ROUNDS):
        pid, one, two = _two_owner_project(app, make, round_)
        first, second = MEMBERS.format(pid, one.user.id), MEMBERS.format(pid, two.user.id)
        answers = at_once(partial(one.api, method, first, bodies[0]), partial(two.api, method, second, bodies[1]))
        assert sorted(a.status_code for a in answers) == [success, 409]
        assert_error(next(a for a in answers if a.status_code == 409), 409, "last_owner")
        assert _owners(pid) == 1


def test_an_owner_leaving_while_demoted_by_the_other_leaves_one_owner(app: Flask, make: Factory) -> None:
    for round_ in range(ROUNDS):
        pid, one, two = _two_owner_project(app, make, round_)
        first = MEMBERS.format(pid, one.user.id)
        answers = at_once(partial(one.api, "DELETE", first), partial(two.api, "PATCH", first, {"role": "admin"}))
        assert all(a.status_code in (200, 204, 404, 409) for a in answers), [a.status_code for a in answers]
        assert _owners(pid) >= 1


def test_the_same_member_added_twice_at_once_is_added_once(
    app: Flask, make: Factory, owner: TokenClient, project: dict[str, Any]
) -> None:
    pid = project["id"]
    one, two = _two(app, owner.user)
    url = f"/api/v1/projects/{pid}/members/"
    for _ in range(ROUNDS):
        person = make.user()
        email = person.email
        answers = at_once(
            partial(one.api, "POST", url, {"email": email, "role": "member"}),
            partial(two.api, "POST", url, {"email": email, "role": "admin"}),
        )
        assert sorted(a.status_code for a in answers) == [201, 409]
        assert_error(next(a for a in answers if a.status_code == 409), 409, "already_member")
        count = db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.project_id == pid, Membership.user_id == person.id)
        )
        assert count == 1


def _loop(project_id: str, a: str, b: str) -> None:
    """Writes a parent loop straight into the database, as old data or a bug might hold."""
    for child, parent in ((a, b), (b, a)):
        row = db.session.get(Task, child)
        assert row is not None
        row.parent_id = parent
    db.session.commit()


def test_roll_up_and_removal_stop_on_a_loop_in_the_data(owner: TokenClient, project: dict[str, Any]) -> None:
    """The second line of defence: a loop that got into the data anyway never makes a writer
    spin (holding the write lock); edits and removals of the tasks in it finish."""
    pid = project["id"]
    a, b = _task(owner, pid, "A"), _task(owner, pid, "B")
    child = _task(owner, pid, "child", a)
    _loop(pid, a, b)
    edited = owner.api(
        "PATCH", TASKS.format(pid) + f"{child}/", {"start_date": "2030-01-01", "finish_date": "2030-01-02"}
    )
    assert edited.status_code == 200, edited.get_data(as_text=True)
    removed = owner.api("DELETE", TASKS.format(pid) + f"{a}/")
    assert removed.status_code == 204
    assert _parents(pid) == {}
    # The database still answers writers: nothing was left holding a lock.
    assert owner.api("POST", TASKS.format(pid), {"name": "after"}).status_code == 201


def test_no_task_is_lost_from_the_list_after_racing_moves(
    app: Flask, owner: TokenClient, project: dict[str, Any]
) -> None:
    """Moves under a common parent racing moves of that parent: the list still shows each
    task exactly once."""
    pid = project["id"]
    one, two = _two(app, owner.user)
    top = _task(owner, pid, "top")
    for round_ in range(ROUNDS // 2):
        a = _task(owner, pid, f"a{round_}", top)
        b = _task(owner, pid, f"b{round_}")
        at_once(
            partial(one.api, "PATCH", TASKS.format(pid) + f"{top}/", {"parent_id": b}),
            partial(two.api, "PATCH", TASKS.format(pid) + f"{b}/", {"parent_id": a}),
        )
        assert_tree(pid)
        listed = [t["id"] for t in owner.api("GET", TASKS.format(pid)).get_json()]
        assert sorted(listed) == sorted(_parents(pid))
