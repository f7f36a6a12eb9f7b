"""The per-project automation switches (SPEC §21): the JSON API (viewer reads, admin writes, both
off on a new project) and the section of the Integrations page (a form per switch, htmx or not)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import SessionClient
from tests.projects.helpers import assert_error
from tests.webhooks.conftest import Hooks


def url(hooks: Hooks, project_id: str | None = None) -> str:
    return f"/api/v1/projects/{project_id or hooks.project_id}/automations/"


def test_both_switches_are_off_on_a_new_project_and_every_member_may_read_them(hooks: Hooks) -> None:
    for client in (hooks.viewer, hooks.member, hooks.admin, hooks.owner):
        response = client.api("GET", url(hooks))
        assert response.status_code == 200
        assert response.get_json() == {"start_on_open": False, "done_on_merge": False}
    assert_error(hooks.stranger.api("GET", url(hooks)), 404, "not_found")


def test_an_admin_sets_each_switch_on_its_own(hooks: Hooks) -> None:
    on = hooks.admin.api("PATCH", url(hooks), json={"done_on_merge": True})
    assert on.status_code == 200 and on.get_json() == {"start_on_open": False, "done_on_merge": True}
    both = hooks.owner.api("PATCH", url(hooks), json={"start_on_open": True})
    assert both.get_json() == {"start_on_open": True, "done_on_merge": True}
    assert hooks.viewer.api("GET", url(hooks)).get_json() == {"start_on_open": True, "done_on_merge": True}
    # Per project: the other one keeps its own.
    assert hooks.admin.api("GET", url(hooks, hooks.other_project_id)).get_json() == {
        "start_on_open": False,
        "done_on_merge": False,
    }


def test_members_and_viewers_cannot_change_them(hooks: Hooks) -> None:
    assert_error(hooks.member.api("PATCH", url(hooks), json={"done_on_merge": True}), 403, "forbidden")
    assert_error(hooks.viewer.api("PATCH", url(hooks), json={"done_on_merge": True}), 403, "forbidden")
    assert_error(hooks.stranger.api("PATCH", url(hooks), json={"done_on_merge": True}), 404, "not_found")
    assert hooks.viewer.api("GET", url(hooks)).get_json()["done_on_merge"] is False


@pytest.mark.parametrize("body", [{"done_on_merge": "yes"}, {"start_on_open": 1}, {"done_on_merge": None}])
def test_a_switch_that_is_not_a_bool_is_a_validation_error_on_it(hooks: Hooks, body: dict[str, Any]) -> None:
    response = hooks.admin.api("PATCH", url(hooks), json=body)
    assert_error(response, 400, "validation_error", *body)


def test_a_body_that_is_not_an_object_is_a_400(hooks: Hooks) -> None:
    response = hooks.admin.api("PATCH", url(hooks), data="[1]", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_an_archived_project_keeps_its_switches_readable_but_not_writable(hooks: Hooks) -> None:
    hooks.admin.api("PATCH", url(hooks), json={"done_on_merge": True})
    assert hooks.owner.api("POST", f"/api/v1/projects/{hooks.project_id}/archive/").status_code == 200
    assert hooks.viewer.api("GET", url(hooks)).get_json()["done_on_merge"] is True
    assert_error(hooks.admin.api("PATCH", url(hooks), json={"done_on_merge": False}), 403, "project_archived")


# --- the Integrations page section ------------------------------------------------------------


def page_client(app: Flask, hooks: Hooks, who: str) -> SessionClient:
    return SessionClient(app.test_client(), getattr(hooks, who).user).login()


def test_the_section_shows_each_switch_as_a_form_for_admins(app: Flask, hooks: Hooks) -> None:
    admin = page_client(app, hooks, "admin")
    html = admin.get(f"/projects/{hooks.project_id}/integrations").get_data(as_text=True)
    assert 'id="automations"' in html and "Git automations" in html
    assert html.count('role="switch"') >= 2 and 'aria-checked="false"' in html
    member = page_client(app, hooks, "member")
    html = member.get(f"/projects/{hooks.project_id}/integrations").get_data(as_text=True)
    assert 'id="automations"' in html and 'name="switch"' not in html  # read-only for members


def test_a_switch_works_without_javascript_and_with_htmx(app: Flask, hooks: Hooks) -> None:
    admin = page_client(app, hooks, "admin")
    base = f"/projects/{hooks.project_id}/integrations/automations"
    plain = admin.form(base, {"switch": "done_on_merge", "value": "on"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith("#automations")
    assert hooks.viewer.api("GET", url(hooks)).get_json()["done_on_merge"] is True
    swapped = admin.form(base, {"switch": "start_on_open", "value": "on"}, headers={"HX-Request": "true"})
    assert swapped.status_code == 200
    html = swapped.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="automations"')
    assert "Start tasks when a pull request opens: on." in html  # announced in the live region
    assert hooks.viewer.api("GET", url(hooks)).get_json() == {"start_on_open": True, "done_on_merge": True}
    off = admin.form(base, {"switch": "done_on_merge", "value": ""}, headers={"HX-Request": "true"})
    assert off.status_code == 200
    assert hooks.viewer.api("GET", url(hooks)).get_json()["done_on_merge"] is False


def test_a_member_cannot_post_a_switch(app: Flask, hooks: Hooks) -> None:
    member = page_client(app, hooks, "member")
    response = member.form(
        f"/projects/{hooks.project_id}/integrations/automations", {"switch": "done_on_merge", "value": "on"}
    )
    assert response.status_code == 403
    assert hooks.viewer.api("GET", url(hooks)).get_json()["done_on_merge"] is False
