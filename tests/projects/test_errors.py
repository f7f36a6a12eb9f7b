"""Malformed input, the error envelope, JSON 404/405 and the order of refusals (SPEC §3, §12)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from ppm.extensions import db
from ppm.projects.models import Project, Task
from tests.conftest import Factory, SessionClient, TokenClient
from tests.projects.helpers import assert_error


@pytest.fixture
def routes(make: Factory, owner: TokenClient, project: dict[str, Any]) -> dict[str, str]:
    """Every POST/PATCH route of SPEC §3 (projects, members, tasks) with real ids."""
    task = make.task(owner.user, project["id"], name="Existing")
    member = make.member(owner.user, project["id"], "member")
    base = f"/api/v1/projects/{project['id']}"
    return {
        "create project": "POST /api/v1/projects/",
        "rename project": f"PATCH {base}/",
        "add member": f"POST {base}/members/",
        "change member": f"PATCH {base}/members/{member.id}/",
        "create task": f"POST {base}/tasks/",
        "edit task": f"PATCH {base}/tasks/{task.id}/",
    }


NOT_AN_OBJECT: list[tuple[str, dict[str, Any]]] = [
    ("plain text", {"data": "name=hello", "content_type": "text/plain"}),
    ("form", {"data": {"name": "hello"}}),
    ("no body", {}),
    ("broken json", {"data": '{"name": ', "content_type": "application/json"}),
    ("not utf-8", {"data": b'{"name": "\xff\xfe"}', "content_type": "application/json"}),
    ("json array", {"json": [{"name": "hello"}]}),
    ("json string", {"json": "hello"}),
    ("json number", {"json": 5}),
    ("json true", {"json": True}),
    ("json null", {"data": "null", "content_type": "application/json"}),
]


def test_every_write_refuses_a_body_that_is_not_a_json_object(owner: TokenClient, routes: dict[str, str]) -> None:
    before = _snapshot()
    for label, kwargs in NOT_AN_OBJECT:
        for name, route in routes.items():
            method, url = route.split(" ", 1)
            headers = {"Authorization": f"Bearer {owner.token}"}
            response = owner.client.open(url, method=method, headers=headers, **kwargs)
            assert response.status_code == 400, (label, name, response.get_data(as_text=True))
            body = response.get_json()
            assert body["code"] in {"validation_error", "bad_request"}, (label, name, body)
            assert isinstance(body["detail"], str) and body["detail"].strip(), (label, name, body)
    assert _snapshot() == before


def _snapshot() -> tuple[Any, ...]:
    db.session.expire_all()
    projects = db.session.execute(select(Project.id, Project.name, Project.archived)).all()
    tasks = db.session.execute(select(Task.id, Task.name, Task.deleted_at)).all()
    return tuple(sorted(projects)), tuple(sorted(tasks, key=lambda t: t[0]))


WRONG_TYPES: list[tuple[str, dict[str, Any], str]] = [
    ("create task", {"name": 5}, "name"),
    ("create task", {"name": "T", "is_milestone": "yes"}, "is_milestone"),
    ("create task", {"name": "T", "is_milestone": 1}, "is_milestone"),
    ("create task", {"name": "T", "start_date": 20260101}, "start_date"),
    ("create task", {"name": "T", "start_date": 0}, "start_date"),
    ("create task", {"name": "T", "start_date": False}, "start_date"),
    ("create task", {"name": "T", "finish_date": ["2026-01-01"]}, "finish_date"),
    ("create task", {"name": "T", "finish_date": {"y": 2026}}, "finish_date"),
    ("create task", {"name": "T", "parent_id": []}, "parent_id"),
    ("create task", {"name": "T", "parent_id": 0}, "parent_id"),
    ("create task", {"name": "T", "parent_id": "missing"}, "parent_id"),
    ("create task", {"name": "T", "assignee_ids": "x"}, "assignee_ids"),
    ("create task", {"name": "T", "assignee_ids": ["missing"]}, "assignee_ids"),
    ("create task", {"name": "T", "position": -1}, "position"),
    ("create task", {"name": "T", "position": True}, "position"),
    ("create task", {"name": "T", "position": "2"}, "position"),
    ("create task", {"name": "T", "description": ["d"]}, "description"),
    ("create task", {"name": "T", "description": "d" * 20001}, "description"),
    ("edit task", {"name": 5}, "name"),
    ("edit task", {"is_milestone": "yes"}, "is_milestone"),
    ("edit task", {"is_milestone": None}, "is_milestone"),
    ("edit task", {"start_date": 20260101}, "start_date"),
    ("edit task", {"start_date": None}, "start_date"),
    ("edit task", {"finish_date": "31/12/2026"}, "finish_date"),
    ("edit task", {"parent_id": []}, "parent_id"),
    ("edit task", {"parent_id": "missing"}, "parent_id"),
    ("edit task", {"assignee_ids": "x"}, "assignee_ids"),
    ("edit task", {"assignee_ids": [1, 2]}, "assignee_ids"),
    ("edit task", {"position": -1}, "position"),
    ("edit task", {"position": True}, "position"),
    ("edit task", {"description": 5}, "description"),
    ("create project", {"name": 5}, "name"),
    ("create project", {"name": {"x": 1}}, "name"),
    ("rename project", {"name": []}, "name"),
    ("add member", {"email": 5, "role": "member"}, "email"),
    ("add member", {"email": "nobody@example.com", "role": "member"}, "email"),
    ("add member", {"email": "owner@example.com", "role": 3}, "role"),
    ("change member", {"role": ["admin"]}, "role"),
]


def test_wrong_types_are_validation_errors_on_the_field(owner: TokenClient, routes: dict[str, str]) -> None:
    before = _snapshot()
    for route, body, field in WRONG_TYPES:
        method, url = routes[route].split(" ", 1)
        response = owner.api(method, url, body)
        assert response.status_code == 400, (route, body, response.get_data(as_text=True))
        assert_error(response, 400, "validation_error", field)
    assert _snapshot() == before


def test_unknown_fields_are_ignored(owner: TokenClient, routes: dict[str, str]) -> None:
    method, url = routes["create task"].split(" ", 1)
    response = owner.api(method, url, {"name": "T", "colour": "red", "sync_number": 9})
    assert response.status_code == 201
    assert "colour" not in response.get_json()


def test_nul_and_odd_unicode_never_cause_a_500(owner: TokenClient, routes: dict[str, str]) -> None:
    for route, body in (
        ("create task", {"name": "a\x00b"}),
        ("create task", {"name": "T", "parent_id": "\x00"}),
        ("create task", {"name": "T", "assignee_ids": ["\x00"]}),
        ("create project", {"name": "\x00"}),
        ("add member", {"email": "a\x00@example.com", "role": "member"}),
    ):
        method, url = routes[route].split(" ", 1)
        response = owner.api(method, url, body)
        assert response.status_code == 400, (route, body, response.get_data(as_text=True))
        assert_error(response, 400, "validation_error")
    emoji = owner.api("POST", routes["create task"].split(" ", 1)[1], {"name": "Launch 🚀 ü"})
    assert emoji.status_code == 201
    assert emoji.get_json()["name"] == "Launch 🚀 ü"


def test_odd_ids_in_the_url_are_404(owner: TokenClient, project: dict[str, Any]) -> None:
    base = f"/api/v1/projects/{project['id']}"
    for segment in ("%00", "a%00b", "x" * 300, "%E2%9C%93", "..", "1 OR 1=1"):
        for method, url, body in (
            ("GET", f"/api/v1/projects/{segment}/", None),
            ("PATCH", f"/api/v1/projects/{segment}/", {"name": "x"}),
            ("GET", f"{base}/tasks/{segment}/", None),
            ("PATCH", f"{base}/tasks/{segment}/", {"name": "x"}),
            ("DELETE", f"{base}/tasks/{segment}/", None),
            ("PATCH", f"{base}/members/{segment}/", {"role": "viewer"}),
            ("DELETE", f"{base}/members/{segment}/", None),
        ):
            response = owner.api(method, url, body)
            assert response.status_code == 404, (method, url, response.get_data(as_text=True))
            assert_error(response, 404, "not_found")


def test_body_too_large_is_a_json_413(owner: TokenClient, routes: dict[str, str]) -> None:
    method, url = routes["create task"].split(" ", 1)
    response = owner.api(method, url, {"name": "T", "description": "d" * (1024 * 1024 + 10)})
    assert_error(response, 413, "too_large")


# --- unknown routes and methods --------------------------------------------------------------

UNKNOWN = [
    "/api/",
    "/api/v1/",
    "/api/v1/nope/",
    "/api/v2/projects/",
    "/api/v1/projects/abc/nothing/",
    "/api/v1/projects/abc/tasks/def/ghi/",
]


def test_unknown_api_route_is_json_404_for_everyone(
    client: Any, owner: TokenClient, session_client: SessionClient
) -> None:
    for path in UNKNOWN:
        for response in (
            client.get(path),
            client.post(path, json={}),
            client.delete(path),
            owner.api("GET", path),
            owner.api("POST", path, {}),
            session_client.get(path),
            session_client.client.post(path, json={}),  # no CSRF token either
            session_client.api("PATCH", path, {}),
        ):
            assert response.status_code == 404, (path, response.request.method)
            assert_error(response, 404, "not_found")


def test_an_unknown_page_is_not_json(session_client: SessionClient) -> None:
    response = session_client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


WRONG_METHODS = [
    ("PUT", "/api/v1/projects/"),
    ("DELETE", "/api/v1/projects/"),
    ("POST", "/api/v1/me/"),
    ("PATCH", "/api/v1/me/"),
    ("POST", "/api/v1/projects/{p}/"),
    ("PUT", "/api/v1/projects/{p}/"),
    ("GET", "/api/v1/projects/{p}/archive/"),
    ("DELETE", "/api/v1/projects/{p}/members/"),
    ("PUT", "/api/v1/projects/{p}/tasks/"),
    ("POST", "/api/v1/projects/{p}/tasks/{t}/"),
]


def test_wrong_method_is_json_405(
    make: Factory, owner: TokenClient, project: dict[str, Any], session_client: SessionClient
) -> None:
    task = make.task(owner.user, project["id"])
    for method, template in WRONG_METHODS:
        url = template.format(p=project["id"], t=task.id)
        response = owner.api(method, url, {})
        assert_error(response, 405, "method_not_allowed")
        assert "Allow" in response.headers, (method, url)
        assert_error(session_client.api(method, url, {}), 405, "method_not_allowed")


# --- the envelope ----------------------------------------------------------------------------


def test_errors_are_json_with_detail_and_code_only(
    owner: TokenClient, project: dict[str, Any], as_role: Callable[[str], TokenClient], client: Any
) -> None:
    base = f"/api/v1/projects/{project['id']}"
    viewer = as_role("viewer")
    stranger = as_role("stranger")
    assert_error(client.get(f"{base}/"), 401, "not_authenticated")
    assert_error(viewer.api("POST", f"{base}/tasks/", {"name": "x"}), 403, "forbidden")
    assert_error(stranger.api("GET", f"{base}/"), 404, "not_found")
    assert_error(
        owner.api("POST", f"{base}/members/", {"email": "owner@example.com", "role": "owner"}), 409, "already_member"
    )
    body = assert_error(owner.api("POST", f"{base}/tasks/", {"name": ""}), 400, "validation_error", "name")
    assert body["detail"]
    both = assert_error(
        owner.api("POST", f"{base}/tasks/", {"name": "", "position": -1}), 400, "validation_error", "name", "position"
    )
    assert set(both["fields"]) == {"name", "position"}


def test_errors_never_leak_a_stack_trace(owner: TokenClient, routes: dict[str, str]) -> None:
    method, url = routes["edit task"].split(" ", 1)
    response = owner.api(method, url, {"parent_id": {"$ne": None}})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Traceback" not in text and "sqlalchemy" not in text.lower()


# --- order of refusals -----------------------------------------------------------------------


def test_anonymous_is_401_before_csrf_and_before_routing_the_project(client: Any, project: dict[str, Any]) -> None:
    base = f"/api/v1/projects/{project['id']}"
    for method, url in (
        ("POST", "/api/v1/projects/"),
        ("POST", f"{base}/tasks/"),
        ("PATCH", f"{base}/"),
        ("DELETE", f"{base}/"),
        ("POST", "/api/v1/projects/nope/tasks/"),
        ("GET", f"{base}/tasks/"),
    ):
        response = client.open(url, method=method, json={"name": "x"})
        assert_error(response, 401, "not_authenticated")
    assert db.session.scalar(select(func.count()).select_from(Project)) == 1


def test_csrf_comes_before_the_project_lookup(session_client: SessionClient, make: Factory, user: Any) -> None:
    outsider = make.user()
    theirs = make.project(outsider, "Theirs")
    for url in ("/api/v1/projects/nope/tasks/", f"/api/v1/projects/{theirs}/tasks/"):
        no_token = session_client.client.post(url, json={"name": "x"})
        assert_error(no_token, 400, "csrf_failed")
        with_token = session_client.api("POST", url, {"name": "x"})
        assert_error(with_token, 404, "not_found")


def test_project_lookup_comes_before_the_body(
    stranger: TokenClient, project: dict[str, Any], make: Factory, owner: TokenClient
) -> None:
    task = make.task(owner.user, project["id"])
    base = f"/api/v1/projects/{project['id']}"
    for method, url in (
        ("PATCH", f"{base}/"),
        ("POST", f"{base}/tasks/"),
        ("PATCH", f"{base}/tasks/{task.id}/"),
        ("POST", f"{base}/members/"),
    ):
        response = stranger.client.open(
            url,
            method=method,
            data="not json",
            content_type="application/json",
            headers={"Authorization": f"Bearer {stranger.token}"},
        )
        assert_error(response, 404, "not_found")


def test_role_comes_before_the_body(as_role: Callable[[str], TokenClient], project: dict[str, Any]) -> None:
    viewer = as_role("viewer")
    base = f"/api/v1/projects/{project['id']}"
    for method, url in (("PATCH", f"{base}/"), ("POST", f"{base}/tasks/"), ("POST", f"{base}/members/")):
        response = viewer.client.open(
            url,
            method=method,
            data="[1, 2",
            content_type="application/json",
            headers={"Authorization": f"Bearer {viewer.token}"},
        )
        assert_error(response, 403, "forbidden")
        assert_error(viewer.api(method, url, {"name": ""}), 403, "forbidden")


def test_archived_is_reported_before_validation(owner: TokenClient, project: dict[str, Any]) -> None:
    owner.api("POST", f"/api/v1/projects/{project['id']}/archive/")
    response = owner.api("POST", f"/api/v1/projects/{project['id']}/tasks/", {"name": ""})
    assert_error(response, 403, "project_archived")


def test_no_500_anywhere_on_garbage(app: Flask, owner: TokenClient, routes: dict[str, str]) -> None:
    garbage: list[Any] = [
        None,
        0,
        -1,
        1e308,
        "",
        "x" * 5000,
        [],
        {},
        [[]],
        {"a": {"b": []}},
        True,
        "2026-01-01",
        "\u202e",
        "0" * 32,
    ]
    task_fields = [
        "name",
        "description",
        "start_date",
        "finish_date",
        "is_milestone",
        "parent_id",
        "assignee_ids",
        "position",
    ]
    fields = {
        "create project": ["name"],
        "rename project": ["name"],
        "add member": ["email", "role"],
        "change member": ["role"],
        "create task": task_fields,
        "edit task": task_fields,
    }
    for name, route in routes.items():
        method, url = route.split(" ", 1)
        for field in fields[name]:
            for value in garbage:
                response = owner.api(method, url, {field: value})
                assert response.status_code < 500, (route, field, value, response.get_data(as_text=True))
                assert response.mimetype == "application/json"
