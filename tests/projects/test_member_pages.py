"""The members page: inline remove confirm, focus after each swap, post-redirect-get without JS."""

from __future__ import annotations

from typing import Any

from tests.conftest import SessionClient

HX = {"HX-Request": "true"}


def _setup(app: Any, make: Any) -> tuple[SessionClient, str, Any]:
    owner = make.user(email="own@example.com", name="Olive Owner")
    project_id = make.project(owner)
    mate = make.member(owner, project_id, "member", user=make.user(email="mate@example.com", name="Mo Mate"))
    return SessionClient(app.test_client(), owner).login(), project_id, mate


def test_remove_asks_first_with_cancel_focused(app: Any, make: Any) -> None:
    client, project_id, mate = _setup(app, make)
    base = f"/projects/{project_id}/members"
    confirm = client.get(f"{base}/{mate.id}/remove", headers=HX).get_data(as_text=True)
    assert "Remove Mo Mate from this project?" in confirm
    assert "autofocus>Cancel</a>" in confirm
    assert "Mo Mate" in client.get(base).get_data(as_text=True)  # nothing removed yet
    done = client.form(f"{base}/{mate.id}/remove", headers=HX).get_data(as_text=True)
    assert "mate@example.com" not in done and 'id="members-heading" tabindex="-1" autofocus' in done


def test_focus_after_add_and_role_change(app: Any, make: Any) -> None:
    client, project_id, mate = _setup(app, make)
    base = f"/projects/{project_id}/members"
    make.user(email="new@example.com", name="Nia New")
    added = client.form(base, {"email": "new@example.com", "role": "viewer"}, headers=HX).get_data(as_text=True)
    email_input = added.split('id="email"')[0].rsplit("<input", 1)[1]
    assert "autofocus" in email_input
    changed = client.form(f"{base}/{mate.id}/role", {"role": "admin"}, headers=HX).get_data(as_text=True)
    change_button = changed.split("role of Mo Mate")[0].rsplit("<button", 1)[1]
    assert "autofocus" in change_button and "Mo Mate is now admin." in changed


def test_without_js_writes_redirect_back(app: Any, make: Any) -> None:
    client, project_id, mate = _setup(app, make)
    base = f"/projects/{project_id}/members"
    make.user(email="new@example.com")
    for response in (
        client.form(base, {"email": "new@example.com", "role": "viewer"}),
        client.form(f"{base}/{mate.id}/role", {"role": "viewer"}),
        client.form(f"{base}/{mate.id}/remove"),
    ):
        assert response.status_code == 303 and response.headers["Location"].endswith(base)
