"""Projects over JSON (SPEC §1, §3, §12): shapes, scoping, roles and archived projects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from ppm.extensions import db
from ppm.projects.models import Membership, Project, Task
from tests.conftest import Factory, TokenClient
from tests.projects.helpers import assert_error, assert_iso_z

PROJECT_KEYS = {"id", "name", "key", "archived", "role", "created_at", "updated_at"}


def test_create_answers_201_with_the_project_shape(owner: TokenClient) -> None:
    response = owner.api("POST", "/api/v1/projects/", {"name": "  Apollo  "})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == PROJECT_KEYS
    assert isinstance(body["id"], str) and body["id"]
    assert body["name"] == "Apollo"
    assert body["archived"] is False
    assert body["role"] == "owner"
    assert_iso_z(body["created_at"])
    assert_iso_z(body["updated_at"])
    membership = db.session.scalar(select(Membership).where(Membership.project_id == body["id"]))
    assert membership is not None and membership.user_id == owner.user.id
    assert membership.role == "owner"


def test_create_refuses_bad_names(owner: TokenClient) -> None:
    for body in ({}, {"name": ""}, {"name": "   "}, {"name": "x" * 201}, {"name": 5}, {"name": None}, {"name": ["a"]}):
        response = owner.api("POST", "/api/v1/projects/", body)
        assert response.status_code == 400, (body, response.get_json())
        assert_error(response, 400, "validation_error", "name")
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_name_of_200_characters_is_accepted(owner: TokenClient) -> None:
    response = owner.api("POST", "/api/v1/projects/", {"name": "x" * 200})
    assert response.status_code == 201
    assert response.get_json()["name"] == "x" * 200


def test_list_is_a_bare_array_of_only_my_projects_with_my_role(
    owner: TokenClient, as_role: Callable[[str], TokenClient], project: dict[str, Any]
) -> None:
    viewer = as_role("viewer")
    mine = viewer.api("POST", "/api/v1/projects/", {"name": "Viewer's own"}).get_json()
    owner.api("POST", "/api/v1/projects/", {"name": "Owner only"})

    listed = viewer.api("GET", "/api/v1/projects/")
    assert listed.status_code == 200
    body = listed.get_json()
    assert isinstance(body, list)
    assert {p["id"]: p["role"] for p in body} == {project["id"]: "viewer", mine["id"]: "owner"}
    assert all(set(p) == PROJECT_KEYS for p in body)

    assert len(owner.api("GET", "/api/v1/projects/").get_json()) == 2


def test_list_is_empty_array_for_a_new_user(as_role: Callable[[str], TokenClient]) -> None:
    response = as_role("stranger").api("GET", "/api/v1/projects/")
    assert response.status_code == 200
    assert response.get_json() == []


def test_get_project_shows_the_callers_role(project: dict[str, Any], as_role: Callable[[str], TokenClient]) -> None:
    for role in ("viewer", "member", "admin"):
        response = as_role(role).api("GET", f"/api/v1/projects/{project['id']}/")
        assert response.status_code == 200
        assert response.get_json() == {**project, "role": role}


def test_me_shape(owner: TokenClient) -> None:
    response = owner.api("GET", "/api/v1/me/")
    assert response.status_code == 200
    assert response.get_json() == {"id": owner.user.id, "email": "owner@example.com", "name": "Olive Owner"}


# --- non-members never learn the project exists ------------------------------------------


def _project_routes(pid: str, tid: str, uid: str) -> list[tuple[str, str, Any]]:
    base = f"/api/v1/projects/{pid}"
    return [
        ("GET", f"{base}/", None),
        ("PATCH", f"{base}/", {"name": "Mine now"}),
        ("DELETE", f"{base}/", None),
        ("POST", f"{base}/archive/", None),
        ("POST", f"{base}/unarchive/", None),
        ("GET", f"{base}/members/", None),
        ("POST", f"{base}/members/", {"email": "owner@example.com", "role": "viewer"}),
        ("PATCH", f"{base}/members/{uid}/", {"role": "viewer"}),
        ("DELETE", f"{base}/members/{uid}/", None),
        ("GET", f"{base}/tasks/", None),
        ("POST", f"{base}/tasks/", {"name": "Sneaky"}),
        ("GET", f"{base}/tasks/{tid}/", None),
        ("PATCH", f"{base}/tasks/{tid}/", {"name": "Sneaky"}),
        ("DELETE", f"{base}/tasks/{tid}/", None),
    ]


def test_non_member_gets_404_on_every_project_route(
    make: Factory, owner: TokenClient, project: dict[str, Any], stranger: TokenClient
) -> None:
    task = make.task(owner.user, project["id"], name="Secret")
    for method, url, body in _project_routes(project["id"], task.id, owner.user.id):
        response = stranger.api(method, url, body)
        assert_error(response, 404, "not_found")
        # Same answer as for a project that does not exist at all.
        missing = stranger.api(method, url.replace(project["id"], "0" * 32), body)
        assert missing.status_code == 404
        assert missing.get_json()["detail"] == response.get_json()["detail"], (method, url)
    # Nothing changed.
    assert owner.api("GET", f"/api/v1/projects/{project['id']}/").get_json() == project
    assert owner.api("GET", f"/api/v1/projects/{project['id']}/tasks/{task.id}/").get_json()["name"] == "Secret"


def test_non_member_gets_404_even_on_an_archived_project(
    owner: TokenClient, project: dict[str, Any], stranger: TokenClient
) -> None:
    owner.api("POST", f"/api/v1/projects/{project['id']}/archive/")
    assert_error(stranger.api("PATCH", f"/api/v1/projects/{project['id']}/", {"name": "x"}), 404, "not_found")
    assert_error(stranger.api("POST", f"/api/v1/projects/{project['id']}/tasks/", {"name": "x"}), 404, "not_found")


def test_a_former_member_loses_access(
    owner: TokenClient, project: dict[str, Any], as_role: Callable[[str], TokenClient]
) -> None:
    member = as_role("member")
    url = f"/api/v1/projects/{project['id']}/"
    assert member.api("GET", url).status_code == 200
    owner.api("DELETE", f"{url}members/{member.user.id}/")
    assert_error(member.api("GET", url), 404, "not_found")


# --- roles ----------------------------------------------------------------------------------


def test_viewer_writes_are_forbidden(
    make: Factory, owner: TokenClient, project: dict[str, Any], as_role: Callable[[str], TokenClient]
) -> None:
    task = make.task(owner.user, project["id"], name="Keep")
    viewer = as_role("viewer")
    base = f"/api/v1/projects/{project['id']}"
    writes = [
        ("POST", f"{base}/tasks/", {"name": "No"}),
        ("PATCH", f"{base}/tasks/{task.id}/", {"name": "No"}),
        ("DELETE", f"{base}/tasks/{task.id}/", None),
        ("PATCH", f"{base}/", {"name": "No"}),
        ("DELETE", f"{base}/", None),
        ("POST", f"{base}/archive/", None),
        ("POST", f"{base}/members/", {"email": "owner@example.com", "role": "viewer"}),
        ("PATCH", f"{base}/members/{owner.user.id}/", {"role": "viewer"}),
        ("DELETE", f"{base}/members/{owner.user.id}/", None),
    ]
    for method, url, body in writes:
        assert_error(viewer.api(method, url, body), 403, "forbidden")
    tasks = owner.api("GET", f"{base}/tasks/").get_json()
    assert [t["name"] for t in tasks] == ["Keep"]
    assert owner.api("GET", f"{base}/").get_json() == project
    assert len(owner.api("GET", f"{base}/members/").get_json()) == 2


def test_viewer_reads_everything(
    make: Factory, owner: TokenClient, project: dict[str, Any], as_role: Callable[[str], TokenClient]
) -> None:
    task = make.task(owner.user, project["id"], name="Read me")
    viewer = as_role("viewer")
    base = f"/api/v1/projects/{project['id']}"
    for url in (f"{base}/", f"{base}/members/", f"{base}/tasks/", f"{base}/tasks/{task.id}/"):
        assert viewer.api("GET", url).status_code == 200, url


def test_member_manages_tasks_but_cannot_rename_archive_or_manage_members(
    owner: TokenClient, project: dict[str, Any], as_role: Callable[[str], TokenClient]
) -> None:
    member = as_role("member")
    base = f"/api/v1/projects/{project['id']}"
    created = member.api("POST", f"{base}/tasks/", {"name": "Mine"})
    assert created.status_code == 201
    assert member.api("PATCH", f"{base}/tasks/{created.get_json()['id']}/", {"name": "Mine too"}).status_code == 200
    assert_error(member.api("PATCH", f"{base}/", {"name": "Renamed"}), 403, "forbidden")
    assert_error(member.api("POST", f"{base}/archive/"), 403, "forbidden")
    assert_error(
        member.api("POST", f"{base}/members/", {"email": "owner@example.com", "role": "viewer"}), 403, "forbidden"
    )
    assert_error(member.api("DELETE", f"{base}/"), 403, "forbidden")
    assert owner.api("GET", f"{base}/").get_json()["name"] == "Apollo"


def test_admin_renames_and_archives_but_cannot_delete(
    project: dict[str, Any], as_role: Callable[[str], TokenClient]
) -> None:
    admin = as_role("admin")
    base = f"/api/v1/projects/{project['id']}"
    renamed = admin.api("PATCH", f"{base}/", {"name": "  Artemis "})
    assert renamed.status_code == 200
    assert renamed.get_json()["name"] == "Artemis"
    assert renamed.get_json()["role"] == "admin"
    assert admin.api("POST", f"{base}/archive/").get_json()["archived"] is True
    assert_error(admin.api("DELETE", f"{base}/"), 403, "forbidden")
    assert admin.api("GET", f"{base}/").status_code == 200


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "  "}, {"name": "y" * 201}, {"name": 3}, {"name": None}])
def test_rename_refuses_bad_names(owner: TokenClient, project: dict[str, Any], body: dict[str, Any]) -> None:
    response = owner.api("PATCH", f"/api/v1/projects/{project['id']}/", body)
    assert_error(response, 400, "validation_error", "name")
    assert owner.api("GET", f"/api/v1/projects/{project['id']}/").get_json()["name"] == "Apollo"


def test_rename_with_empty_object_changes_nothing(owner: TokenClient, project: dict[str, Any]) -> None:
    response = owner.api("PATCH", f"/api/v1/projects/{project['id']}/", {})
    assert response.status_code == 200
    assert response.get_json()["name"] == "Apollo"


def test_patch_cannot_archive_through_the_back_door(owner: TokenClient, project: dict[str, Any]) -> None:
    response = owner.api("PATCH", f"/api/v1/projects/{project['id']}/", {"archived": True})
    assert response.status_code == 200
    assert response.get_json()["archived"] is False


# --- archived projects ----------------------------------------------------------------------


@pytest.fixture
def archived(
    make: Factory, owner: TokenClient, project: dict[str, Any], as_role: Callable[[str], TokenClient]
) -> dict[str, Any]:
    task = make.task(owner.user, project["id"], name="Frozen")
    admin = as_role("admin")
    viewer = as_role("viewer")
    member = as_role("member")
    response = owner.api("POST", f"/api/v1/projects/{project['id']}/archive/")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == PROJECT_KEYS and body["archived"] is True
    return {"project": project, "task": task, "admin": admin, "viewer": viewer, "member": member}


def test_archived_project_refuses_every_write(owner: TokenClient, archived: dict[str, Any]) -> None:
    pid, tid = archived["project"]["id"], archived["task"].id
    other = archived["viewer"].user.id
    base = f"/api/v1/projects/{pid}"
    writes = [
        ("PATCH", f"{base}/", {"name": "Thawed"}),
        ("POST", f"{base}/archive/", None),
        ("POST", f"{base}/members/", {"email": "nobody@example.com", "role": "viewer"}),
        ("PATCH", f"{base}/members/{other}/", {"role": "member"}),
        ("DELETE", f"{base}/members/{other}/", None),
        ("POST", f"{base}/tasks/", {"name": "New"}),
        ("PATCH", f"{base}/tasks/{tid}/", {"name": "Changed"}),
        ("DELETE", f"{base}/tasks/{tid}/", None),
    ]
    for method, url, body in writes:
        assert_error(owner.api(method, url, body), 403, "project_archived")
    assert owner.api("GET", f"{base}/").get_json()["name"] == "Apollo"
    assert [t["name"] for t in owner.api("GET", f"{base}/tasks/").get_json()] == ["Frozen"]
    roles = {m["user_id"]: m["role"] for m in owner.api("GET", f"{base}/members/").get_json()}
    assert roles[other] == "viewer"


def test_archived_project_keeps_reading(archived: dict[str, Any]) -> None:
    pid, tid = archived["project"]["id"], archived["task"].id
    base = f"/api/v1/projects/{pid}"
    viewer = archived["viewer"]
    assert viewer.api("GET", f"{base}/").get_json()["archived"] is True
    assert viewer.api("GET", f"{base}/members/").status_code == 200
    assert viewer.api("GET", f"{base}/tasks/").get_json()[0]["id"] == tid
    assert viewer.api("GET", f"{base}/tasks/{tid}/").status_code == 200
    listed = viewer.api("GET", "/api/v1/projects/").get_json()
    assert [p["archived"] for p in listed] == [True]


def test_unarchive_needs_admin_and_then_writes_work(archived: dict[str, Any]) -> None:
    pid = archived["project"]["id"]
    base = f"/api/v1/projects/{pid}"
    member = archived["member"]
    assert_error(member.api("POST", f"{base}/unarchive/"), 403, "forbidden")
    assert_error(archived["viewer"].api("POST", f"{base}/unarchive/"), 403, "forbidden")
    response = archived["admin"].api("POST", f"{base}/unarchive/")
    assert response.status_code == 200
    assert response.get_json()["archived"] is False
    assert response.get_json()["role"] == "admin"
    assert member.api("POST", f"{base}/tasks/", {"name": "Back to work"}).status_code == 201


def test_owner_can_delete_an_archived_project(owner: TokenClient, archived: dict[str, Any]) -> None:
    pid = archived["project"]["id"]
    assert_error(archived["admin"].api("DELETE", f"/api/v1/projects/{pid}/"), 403, "forbidden")
    response = owner.api("DELETE", f"/api/v1/projects/{pid}/")
    assert response.status_code == 204
    assert response.get_data() == b""


def test_unarchive_of_a_live_project_is_harmless(owner: TokenClient, project: dict[str, Any]) -> None:
    response = owner.api("POST", f"/api/v1/projects/{project['id']}/unarchive/")
    assert response.status_code == 200
    assert response.get_json()["archived"] is False


# --- delete -----------------------------------------------------------------------------------


def test_delete_answers_204_and_removes_everything(
    make: Factory, owner: TokenClient, project: dict[str, Any], as_role: Callable[[str], TokenClient]
) -> None:
    member = as_role("member")
    parent = make.task(owner.user, project["id"], name="Parent")
    make.task(owner.user, project["id"], name="Child", parent_id=parent.id, assignee_ids=[member.user.id])
    response = owner.api("DELETE", f"/api/v1/projects/{project['id']}/")
    assert response.status_code == 204
    assert response.get_data() == b""
    assert_error(owner.api("GET", f"/api/v1/projects/{project['id']}/"), 404, "not_found")
    assert_error(member.api("GET", f"/api/v1/projects/{project['id']}/tasks/"), 404, "not_found")
    assert owner.api("GET", "/api/v1/projects/").get_json() == []
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Task)) == 0
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 0
    assert_error(owner.api("DELETE", f"/api/v1/projects/{project['id']}/"), 404, "not_found")
