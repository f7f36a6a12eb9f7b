"""Attack tests (SPEC §23): the live poll with hostile parameters, from non-members, and
whether it leaks tasks of another project or rows a filter hides."""

# ruff: noqa: F811 - pytest fixtures imported from the suites' conftests are parameters here

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ppm.extensions import db
from ppm.projects import services as project_services
from ppm.projects.models import Task
from tests.conftest import Factory, SessionClient
from tests.schedule.conftest import day, htmx, login, project  # noqa: F401 - fixtures reused here

LIVE = {**htmx("schedule-live")}


def _changes(pid: str) -> str:
    return f"/projects/{pid}/schedule/changes"


@pytest.mark.parametrize(
    "since",
    ["0" * 5000, "9" * 5000, "-0", "1e3", "\u0661", "\uff11", "1\x00", "NaN", "inf", "1_000", "٣"],
)
def test_hostile_since_is_400(login: Callable[[str], SessionClient], project: dict[str, Any], since: str) -> None:
    response = login("viewer").get(_changes(project["id"]), query_string={"since": since}, headers=LIVE)
    assert response.status_code == 400, (since[:20], response.status_code)


def test_repeated_since_never_500(login: Callable[[str], SessionClient], project: dict[str, Any]) -> None:
    client = login("viewer")
    for query in ("?since=0&since=abc", "?since=abc&since=0", "?since=0&task=%ED%A0%80&open=%FF&attention=%C0"):
        response = client.get(_changes(project["id"]) + query, headers=LIVE)
        assert response.status_code in (200, 204, 400), (query, response.status_code)


@pytest.mark.parametrize(
    "extra",
    [
        {"view": "x" * 5000},
        {"zoom": "\x00"},
        {"attention": "bogus"},
        {"attention": "," * 5000},
        {"from": "9999-99-99"},
        {"from": "-1"},
        {"open": "x" * 5000},
        {"top": "-5"},
        {"top": "9" * 400},
        {"task": "%ED%A0%80"},
        {"task": "APO-999999999999999999999"},
    ],
)
def test_hostile_view_parameters_never_500(
    login: Callable[[str], SessionClient], project: dict[str, Any], extra: dict[str, str]
) -> None:
    response = login("viewer").get(_changes(project["id"]), query_string={"since": "0", **extra}, headers=LIVE)
    assert response.status_code < 500, (extra, response.status_code)


def test_hostile_project_ids_are_404(login: Callable[[str], SessionClient], project: dict[str, Any]) -> None:
    client = login("viewer")
    for pid in ("x" * 5000, "%00", "'--", project["id"].upper(), project["id"] + " "):
        assert client.get(_changes(pid) + "?since=0", headers=LIVE).status_code == 404, pid[:40]


def test_no_task_of_another_project_leaks(
    login: Callable[[str], SessionClient], project: dict[str, Any], make: Factory, user: Any
) -> None:
    client = login("viewer")
    other_pid = make.project(user, "Zephyr")
    secret = make.task(user, other_pid, name="TOPSECRETOTHER", start_date=day(0), finish_date=day(1))
    response = client.get(_changes(project["id"]) + f"?since=0&task={secret.id}&open={secret.id}", headers=LIVE)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    at = text.find("TOPSECRETOTHER")
    assert at < 0, text[max(0, at - 600) : at + 100]
    # And the other project's own poll is 404 for this viewer.
    assert client.get(_changes(other_pid) + "?since=0", headers=LIVE).status_code == 404


def test_a_filtered_out_task_name_does_not_leak(
    login: Callable[[str], SessionClient], project: dict[str, Any], user: Any
) -> None:
    client = login("viewer")
    since = int(
        client.get(f"/projects/{project['id']}/schedule?attention=closed_unmerged")
        .get_data(as_text=True)
        .split('data-since="')[1]
        .split('"')[0]
    )
    task = db.session.get(Task, project["launch"])
    assert task is not None
    task.name = "HIDDENBYFILTER"
    task.sync_number = project_services.next_sync_number(project["id"])
    db.session.commit()
    response = client.get(_changes(project["id"]) + f"?since={since}&attention=closed_unmerged", headers=LIVE)
    assert response.status_code == 200
    assert "HIDDENBYFILTER" not in response.get_data(as_text=True)


def test_a_member_removed_from_the_project_gets_404(
    login: Callable[[str], SessionClient], project: dict[str, Any], user: Any
) -> None:
    from ppm.projects.models import Membership

    client = login("viewer")
    assert client.get(_changes(project["id"]) + "?since=0", headers=LIVE).status_code == 200
    db.session.execute(
        db.delete(Membership).where(Membership.project_id == project["id"], Membership.user_id != user.id)
    )
    db.session.commit()
    assert client.get(_changes(project["id"]) + "?since=0", headers=LIVE).status_code == 404
