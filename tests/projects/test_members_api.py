"""Members over JSON (SPEC §1, §3, §12): add, change role, remove, and the last owner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Factory, TokenClient
from tests.projects.helpers import assert_error

MEMBER_KEYS = {"user_id", "email", "name", "role"}


def _members(client: TokenClient, pid: str) -> dict[str, str]:
    response = client.api("GET", f"/api/v1/projects/{pid}/members/")
    assert response.status_code == 200
    body = response.get_json()
    assert isinstance(body, list)
    assert all(set(m) == MEMBER_KEYS for m in body)
    return {m["user_id"]: m["role"] for m in body}


def test_list_members_is_a_bare_array_of_member_shapes(owner: TokenClient, project: dict[str, Any]) -> None:
    response = owner.api("GET", f"/api/v1/projects/{project['id']}/members/")
    assert response.status_code == 200
    assert response.get_json() == [
        {"user_id": owner.user.id, "email": "owner@example.com", "name": "Olive Owner", "role": "owner"}
    ]


def test_add_member_answers_201_with_the_member(
    make: Factory, app: Any, owner: TokenClient, project: dict[str, Any]
) -> None:
    person = make.user(email="ravi@example.com", name="Ravi Patel")
    response = owner.api(
        "POST", f"/api/v1/projects/{project['id']}/members/", {"email": "  RAVI@Example.com ", "role": "member"}
    )
    assert response.status_code == 201
    assert response.get_json() == {
        "user_id": person.id,
        "email": "ravi@example.com",
        "name": "Ravi Patel",
        "role": "member",
    }
    assert _members(owner, project["id"])[person.id] == "member"
    # And the new member can now see the project, with that role.
    from tests.conftest import client_for

    seen = client_for(app, person).api("GET", f"/api/v1/projects/{project['id']}/")
    assert seen.status_code == 200
    assert seen.get_json()["role"] == "member"


@pytest.mark.parametrize("role", ["viewer", "member", "admin", "owner"])
def test_owner_can_add_every_role(make: Factory, owner: TokenClient, project: dict[str, Any], role: str) -> None:
    person = make.user()
    response = owner.api("POST", f"/api/v1/projects/{project['id']}/members/", {"email": person.email, "role": role})
    assert response.status_code == 201
    assert response.get_json()["role"] == role


def test_add_unknown_email_is_a_validation_error_on_email(owner: TokenClient, project: dict[str, Any]) -> None:
    response = owner.api(
        "POST", f"/api/v1/projects/{project['id']}/members/", {"email": "nobody@example.com", "role": "member"}
    )
    assert_error(response, 400, "validation_error", "email")
    assert len(_members(owner, project["id"])) == 1


def test_add_existing_member_is_409_already_member(make: Factory, owner: TokenClient, project: dict[str, Any]) -> None:
    person = make.member(owner.user, project["id"], "viewer")
    for email in (person.email, person.email.upper(), owner.user.email):
        response = owner.api("POST", f"/api/v1/projects/{project['id']}/members/", {"email": email, "role": "admin"})
        assert_error(response, 409, "already_member")
    roles = _members(owner, project["id"])
    assert roles == {owner.user.id: "owner", person.id: "viewer"}


def test_add_with_bad_role_is_a_validation_error_on_role(
    make: Factory, owner: TokenClient, project: dict[str, Any]
) -> None:
    person = make.user()
    for role in ("boss", "", "Owner", " owner", None, 3, ["member"], {"r": 1}):
        response = owner.api(
            "POST", f"/api/v1/projects/{project['id']}/members/", {"email": person.email, "role": role}
        )
        assert response.status_code == 400, (role, response.get_json())
        assert_error(response, 400, "validation_error", "role")
    assert person.id not in _members(owner, project["id"])


@pytest.mark.parametrize(
    "body",
    [
        {"role": "member"},
        {"email": "", "role": "member"},
        {"email": 7, "role": "member"},
        {"email": None, "role": "member"},
        {"email": ["a@example.com"], "role": "member"},
    ],
)
def test_add_with_bad_email_is_a_validation_error_on_email(
    owner: TokenClient, project: dict[str, Any], body: dict[str, Any]
) -> None:
    response = owner.api("POST", f"/api/v1/projects/{project['id']}/members/", body)
    assert_error(response, 400, "validation_error", "email")


def test_add_reports_both_fields_at_once(owner: TokenClient, project: dict[str, Any]) -> None:
    response = owner.api(
        "POST", f"/api/v1/projects/{project['id']}/members/", {"email": "nobody@example.com", "role": "boss"}
    )
    assert_error(response, 400, "validation_error", "email", "role")


def test_admin_cannot_grant_owner(
    make: Factory, owner: TokenClient, project: dict[str, Any], as_role: Callable[[str], TokenClient]
) -> None:
    admin = as_role("admin")
    person = make.user()
    response = admin.api("POST", f"/api/v1/projects/{project['id']}/members/", {"email": person.email, "role": "owner"})
    assert_error(response, 403, "forbidden")
    assert person.id not in _members(owner, project["id"])
    added = admin.api("POST", f"/api/v1/projects/{project['id']}/members/", {"email": person.email, "role": "admin"})
    assert added.status_code == 201


# --- change role ------------------------------------------------------------------------------


def test_patch_role_answers_the_member(make: Factory, owner: TokenClient, project: dict[str, Any]) -> None:
    person = make.member(owner.user, project["id"], "viewer")
    response = owner.api("PATCH", f"/api/v1/projects/{project['id']}/members/{person.id}/", {"role": "admin"})
    assert response.status_code == 200
    assert response.get_json() == {"user_id": person.id, "email": person.email, "name": person.name, "role": "admin"}
    assert _members(owner, project["id"])[person.id] == "admin"


@pytest.mark.parametrize("body", [{}, {"role": "king"}, {"role": 1}, {"role": None}])
def test_patch_with_bad_role_is_a_validation_error(
    make: Factory, owner: TokenClient, project: dict[str, Any], body: Any
) -> None:
    person = make.member(owner.user, project["id"], "viewer")
    response = owner.api("PATCH", f"/api/v1/projects/{project['id']}/members/{person.id}/", body)
    assert_error(response, 400, "validation_error", "role")
    assert _members(owner, project["id"])[person.id] == "viewer"


def test_patch_unknown_member_is_404(make: Factory, owner: TokenClient, project: dict[str, Any]) -> None:
    outsider = make.user()
    for uid in (outsider.id, "no-such-user"):
        response = owner.api("PATCH", f"/api/v1/projects/{project['id']}/members/{uid}/", {"role": "admin"})
        assert_error(response, 404, "not_found")
        assert_error(owner.api("DELETE", f"/api/v1/projects/{project['id']}/members/{uid}/"), 404, "not_found")


def test_member_of_another_project_is_not_found_here(
    make: Factory, owner: TokenClient, project: dict[str, Any]
) -> None:
    other = owner.api("POST", "/api/v1/projects/", {"name": "Other"}).get_json()
    person = make.member(owner.user, other["id"], "member")
    response = owner.api("PATCH", f"/api/v1/projects/{project['id']}/members/{person.id}/", {"role": "admin"})
    assert_error(response, 404, "not_found")
    assert _members(owner, other["id"])[person.id] == "member"


def test_last_owner_cannot_be_demoted(owner: TokenClient, project: dict[str, Any]) -> None:
    for role in ("admin", "member", "viewer"):
        response = owner.api("PATCH", f"/api/v1/projects/{project['id']}/members/{owner.user.id}/", {"role": role})
        assert_error(response, 409, "last_owner")
    assert _members(owner, project["id"]) == {owner.user.id: "owner"}


def test_last_owner_cannot_be_removed(owner: TokenClient, project: dict[str, Any]) -> None:
    response = owner.api("DELETE", f"/api/v1/projects/{project['id']}/members/{owner.user.id}/")
    assert_error(response, 409, "last_owner")
    assert _members(owner, project["id"]) == {owner.user.id: "owner"}


def test_an_owner_may_step_down_when_another_owner_remains(
    make: Factory, owner: TokenClient, project: dict[str, Any]
) -> None:
    second = make.member(owner.user, project["id"], "owner")
    response = owner.api("PATCH", f"/api/v1/projects/{project['id']}/members/{owner.user.id}/", {"role": "admin"})
    assert response.status_code == 200
    assert response.get_json()["role"] == "admin"
    # Now `second` is the last owner and is protected.
    response = owner.api("PATCH", f"/api/v1/projects/{project['id']}/members/{second.id}/", {"role": "admin"})
    assert_error(response, 403, "forbidden")  # an admin cannot change an owner


def test_last_owner_after_removing_the_other(
    make: Factory, app: Any, owner: TokenClient, project: dict[str, Any]
) -> None:
    second = make.member(owner.user, project["id"], "owner")
    assert owner.api("DELETE", f"/api/v1/projects/{project['id']}/members/{second.id}/").status_code == 204
    assert_error(owner.api("DELETE", f"/api/v1/projects/{project['id']}/members/{owner.user.id}/"), 409, "last_owner")


def test_admin_cannot_demote_or_remove_an_owner(
    owner: TokenClient, project: dict[str, Any], as_role: Callable[[str], TokenClient]
) -> None:
    admin = as_role("admin")
    base = f"/api/v1/projects/{project['id']}/members/{owner.user.id}/"
    assert_error(admin.api("PATCH", base, {"role": "viewer"}), 403, "forbidden")
    assert_error(admin.api("DELETE", base), 403, "forbidden")
    assert _members(owner, project["id"])[owner.user.id] == "owner"


def test_admin_cannot_promote_to_owner(
    make: Factory, owner: TokenClient, project: dict[str, Any], as_role: Callable[[str], TokenClient]
) -> None:
    admin = as_role("admin")
    person = make.member(owner.user, project["id"], "member")
    response = admin.api("PATCH", f"/api/v1/projects/{project['id']}/members/{person.id}/", {"role": "owner"})
    assert_error(response, 403, "forbidden")
    assert (
        admin.api("PATCH", f"/api/v1/projects/{project['id']}/members/{person.id}/", {"role": "viewer"}).get_json()[
            "role"
        ]
        == "viewer"
    )


# --- remove -----------------------------------------------------------------------------------


def test_delete_member_answers_204_with_no_body(
    make: Factory, app: Any, owner: TokenClient, project: dict[str, Any]
) -> None:
    person = make.member(owner.user, project["id"], "member")
    response = owner.api("DELETE", f"/api/v1/projects/{project['id']}/members/{person.id}/")
    assert response.status_code == 204
    assert response.get_data() == b""
    assert person.id not in _members(owner, project["id"])


def test_a_member_may_leave_but_not_remove_others(
    owner: TokenClient, project: dict[str, Any], as_role: Callable[[str], TokenClient]
) -> None:
    viewer = as_role("viewer")
    member = as_role("member")
    base = f"/api/v1/projects/{project['id']}/members"
    assert_error(viewer.api("DELETE", f"{base}/{member.user.id}/"), 403, "forbidden")
    assert_error(member.api("DELETE", f"{base}/{viewer.user.id}/"), 403, "forbidden")
    response = viewer.api("DELETE", f"{base}/{viewer.user.id}/")
    assert response.status_code == 204
    assert_error(viewer.api("GET", f"/api/v1/projects/{project['id']}/"), 404, "not_found")
    assert set(_members(owner, project["id"])) == {owner.user.id, member.user.id}


def test_members_cannot_change_roles(
    owner: TokenClient, project: dict[str, Any], as_role: Callable[[str], TokenClient]
) -> None:
    member = as_role("member")
    response = member.api("PATCH", f"/api/v1/projects/{project['id']}/members/{member.user.id}/", {"role": "admin"})
    assert_error(response, 403, "forbidden")
    assert _members(owner, project["id"])[member.user.id] == "member"
