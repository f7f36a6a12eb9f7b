"""SPEC §19: lone surrogates, NUL and other control characters in any JSON string or id the API
takes answer 400 (404 for an id in the URL), never 500, on SQLite and PostgreSQL alike. The
check is one function every write service calls, so every field of every body is covered."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import Factory, SessionClient, TokenClient
from tests.projects.helpers import assert_error

BAD = ["\ud800", "a\udfffb", "a\x00b", "bell\x07", "del\x7f", "\x1b[31m"]


@pytest.fixture
def world(make: Factory, owner: TokenClient, project: dict[str, Any]) -> dict[str, str]:
    pid = project["id"]
    person = make.member(owner.user, pid, "member")
    task = owner.api("POST", f"/api/v1/projects/{pid}/tasks/", {"name": "T"}).get_json()
    link = owner.api(
        "POST", f"/api/v1/projects/{pid}/tasks/{task['id']}/links/", {"url": "https://example.com/a"}
    ).get_json()
    return {"project": pid, "task": task["id"], "link": link["id"], "person": person.id}


def _routes(w: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, url, a valid body) for every JSON write the token API takes."""
    project = f"/api/v1/projects/{w['project']}/"
    task = f"{project}tasks/{w['task']}/"
    return [
        ("POST", "/api/v1/projects/", {"name": "P"}),
        ("PATCH", project, {"name": "P"}),
        ("POST", f"{project}members/", {"email": "nobody@example.com", "role": "member"}),
        ("PATCH", f"{project}members/{w['person']}/", {"role": "admin"}),
        (
            "POST",
            f"{project}tasks/",
            {
                "name": "N",
                "description": "D",
                "start_date": "2026-01-01",
                "finish_date": "2026-01-02",
                "parent_id": w["task"],
                "assignee_ids": [w["person"]],
            },
        ),
        (
            "PATCH",
            task,
            {
                "name": "N",
                "description": "D",
                "start_date": "2026-01-01",
                "finish_date": "2026-01-02",
                "parent_id": None,
            },
        ),
        ("PATCH", task, {"assignee_ids": [w["person"]]}),
        ("POST", f"{task}links/", {"url": "https://example.com/b", "custom_title": "C", "labels": ["x"]}),
        ("PATCH", f"{task}links/{w['link']}/", {"custom_title": "C", "labels": ["x"]}),
    ]


def _spoiled(value: Any, bad: str) -> Any:
    if isinstance(value, list):
        return [bad + "x"]
    return (value or "") + bad


@pytest.mark.parametrize("bad", BAD)
def test_every_string_of_every_body_is_checked(owner: TokenClient, world: dict[str, str], bad: str) -> None:
    for method, url, body in _routes(world):
        for field in body:
            if body[field] is None:
                continue
            response = owner.api(method, url, {**body, field: _spoiled(body[field], bad)})
            assert_error(response, 400, "validation_error", field)


@pytest.mark.parametrize("bad", ["\ud800", "\x00"])
def test_a_bad_key_or_nested_value_is_refused_as_the_body(owner: TokenClient, world: dict[str, str], bad: str) -> None:
    url = f"/api/v1/projects/{world['project']}/tasks/"
    assert_error(owner.api("POST", url, {"name": "N", f"k{bad}": 1}), 400, "validation_error", "body")
    nested = owner.api("POST", url, {"name": "N", "extra": {"deep": [[f"v{bad}"]]}})
    assert_error(nested, 400, "validation_error", "extra")


def test_text_is_checked_after_routing_and_role(make: Factory, app: Flask, world: dict[str, str], as_role: Any) -> None:
    """SPEC §12's order: a stranger gets 404 and a viewer 403 whatever the body holds."""
    url = f"/api/v1/projects/{world['project']}/tasks/"
    assert_error(as_role("stranger").api("POST", url, {"name": "\ud800"}), 404, "not_found")
    assert_error(as_role("viewer").api("POST", url, {"name": "\ud800"}), 403, "forbidden")


@pytest.mark.parametrize("bad", ["%00", "%ED%A0%80", "%01", "x%0Ay", "%C0%80"])
def test_a_bad_id_in_the_url_is_404(owner: TokenClient, world: dict[str, str], bad: str) -> None:
    project = f"/api/v1/projects/{world['project']}/"
    task = f"{project}tasks/{world['task']}/"
    for method, url in [
        ("GET", f"/api/v1/projects/{bad}/"),
        ("PATCH", f"/api/v1/projects/{bad}/"),
        ("GET", f"{project}tasks/{bad}/"),
        ("PATCH", f"{project}tasks/{bad}/"),
        ("DELETE", f"{project}tasks/{bad}/"),
        ("GET", f"{task}links/{bad}/"),
        ("PATCH", f"{task}links/{bad}/"),
        ("DELETE", f"{task}links/{bad}/"),
        ("PATCH", f"{project}members/{bad}/"),
        ("DELETE", f"{project}members/{bad}/"),
        ("GET", f"/api/v1/projects/{bad}/sync/"),
    ]:
        response = owner.api(method, url, {"name": "x", "role": "admin"} if method == "PATCH" else None)
        assert_error(response, 404, "not_found")


def test_a_bad_task_in_the_schedule_url_is_not_a_500(session_client: SessionClient, world: dict[str, str]) -> None:
    for bad in ("%00", "%ED%A0%80", "%1B"):
        response = session_client.get(f"/projects/{world['project']}/schedule?task={bad}")
        assert response.status_code in (200, 404), response.status_code
        response = session_client.get(f"/projects/{world['project']}/schedule/tasks/{bad}/row")
        assert response.status_code in (200, 404), response.status_code


@pytest.mark.parametrize("bad", ["\x00", "\x08"])  # a form cannot carry a surrogate: it is UTF-8
def test_schedule_form_posts_refuse_bad_text_without_a_500(
    session_client: SessionClient, world: dict[str, str], bad: str
) -> None:
    """Forms reach the same services: the check covers them too (a 422 form, not a 500)."""
    base = f"/projects/{world['project']}/schedule/tasks"
    for data in ({"name": f"N{bad}"}, {"name": "N", "parent_id": f"{world['task']}{bad}"}):
        response = session_client.form(base, data)
        assert response.status_code == 422, response.status_code
