"""The Webhooks section of a project's Integrations page (SPEC §13): admins create, see the
secret once, rotate and delete with inline confirms; others see the list and no control.
htmx swaps the section alone; without JavaScript the same forms answer whole pages."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import SessionClient
from tests.webhooks.conftest import Hooks, github_example

HX = {"HX-Request": "true"}


@pytest.fixture
def admin(app: Flask, hooks: Hooks) -> SessionClient:
    return SessionClient(app.test_client(), hooks.admin.user).login()


@pytest.fixture
def member(app: Flask, hooks: Hooks) -> SessionClient:
    return SessionClient(app.test_client(), hooks.member.user).login()


def page_url(hooks: Hooks) -> str:
    return f"/projects/{hooks.project_id}/integrations"


def secret_in(html: str) -> str:
    return html.split('id="webhook-secret" type="text" readonly value="', 1)[1].split('"', 1)[0]


def test_admins_see_the_section_with_its_controls(hooks: Hooks, admin: SessionClient) -> None:
    hook = hooks.create()
    html = admin.get(page_url(hooks)).get_data(as_text=True)
    assert 'id="webhooks"' in html and "Add a webhook" in html
    assert f"/hooks/github/{hook.id}" in html
    assert "No delivery yet" in html
    assert f"{hook.id}/rotate" in html and f"{hook.id}/delete" in html
    assert hook.secret not in html


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_others_see_the_receivers_and_their_last_delivery_but_no_control(app: Flask, hooks: Hooks, role: str) -> None:
    hook = hooks.create()
    hooks.sender.github(hook, "ping", github_example("ping"))
    hooks.sender.github(hook, "pull_request", github_example("pull_request.opened"), secret="wrong")
    person = getattr(hooks, role).user
    html = SessionClient(app.test_client(), person).login().get(page_url(hooks)).get_data(as_text=True)
    assert f"/hooks/github/{hook.id}" in html
    assert "Refused: the signature did not match" in html and "just now" in html
    assert "Add a webhook" not in html and "/rotate" not in html and "/delete" not in html
    assert "<form" not in html.split('id="webhooks"', 1)[1].split("</section>", 1)[0]
    assert hook.secret not in html


def test_a_non_member_gets_404(app: Flask, hooks: Hooks) -> None:
    stranger = SessionClient(app.test_client(), hooks.stranger.user).login()
    assert stranger.get(page_url(hooks)).status_code == 404
    assert stranger.form(page_url(hooks) + "/webhooks", {"provider": "github"}).status_code == 404


def test_create_with_htmx_reveals_the_secret_once_and_announces_it(hooks: Hooks, admin: SessionClient) -> None:
    response = admin.form(page_url(hooks) + "/webhooks", {"provider": "gitlab"}, headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and html.lstrip().startswith('<section id="webhooks"')
    assert 'id="webhook-reveal-heading" tabindex="-1" autofocus' in html
    assert "Settings → Webhooks → Add new webhook" in html and "Secret token" in html
    assert "Merge request events" in html and "Issues events" in html and "Pipeline events" in html
    assert 'hx-swap-oob="innerHTML:#live-region">GitLab webhook created.' in html
    secret = secret_in(html)
    receiver = hooks.admin.api("GET", hooks.api).get_json()[0]
    assert receiver["provider"] == "gitlab" and receiver["url"] in html
    # The secret in the reveal is the one that authenticates deliveries.
    from tests.webhooks.conftest import Hook, gitlab_issue

    hook = Hook(receiver["id"], "gitlab", secret, receiver["url"])
    assert hooks.sender.gitlab(hook, "Issue Hook", gitlab_issue()).status_code == 200
    again = admin.get(page_url(hooks)).get_data(as_text=True)
    assert secret not in again


def test_github_setup_steps_name_every_event_to_tick(hooks: Hooks, admin: SessionClient) -> None:
    html = admin.form(page_url(hooks) + "/webhooks", {"provider": "github"}, headers=HX).get_data(as_text=True)
    for words in (
        "Settings → Webhooks → Add webhook",
        "application/json",
        "application/x-www-form-urlencoded",
        "Pull requests",
        "Issues",
        "Check suites",
        "Check runs",
        "Statuses",
        "Pull request reviews",
    ):
        assert words in html, words


def test_without_javascript_create_answers_the_page_with_the_secret(hooks: Hooks, admin: SessionClient) -> None:
    response = admin.form(page_url(hooks) + "/webhooks", {"provider": "github"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "<html" in html and 'id="webhooks"' in html and "&lt;section" not in html
    assert len(secret_in(html)) >= 43
    assert "Integrations" in html  # the project navigation is there


def test_rotate_and_delete_confirm_inline_then_act(hooks: Hooks, admin: SessionClient) -> None:
    hook = hooks.create()
    base = page_url(hooks) + f"/webhooks/{hook.id}"
    confirm = admin.get(base + "/rotate", headers=HX).get_data(as_text=True)
    assert "Rotate the secret of this GitHub webhook?" in confirm
    assert "autofocus>Cancel</a>" in confirm
    rotated = admin.form(base + "/rotate", headers=HX).get_data(as_text=True)
    new_secret = secret_in(rotated)
    assert new_secret != hook.secret
    assert "New secret made for the GitHub webhook" in rotated
    assert hooks.sender.github(hook, "ping", github_example("ping")).status_code == 401
    assert hooks.sender.github(hook, "ping", github_example("ping"), secret=new_secret).status_code == 200

    confirm = admin.get(base + "/delete", headers=HX).get_data(as_text=True)
    assert "Delete this GitHub webhook?" in confirm and "autofocus>Cancel</a>" in confirm
    deleted = admin.form(base + "/delete", headers=HX).get_data(as_text=True)
    assert 'id="webhooks-heading" tabindex="-1" autofocus' in deleted
    assert "GitHub webhook deleted." in deleted and "No webhooks yet." in deleted
    assert hooks.sender.github(hook, "ping", github_example("ping"), secret=new_secret).status_code == 404


def test_without_javascript_confirms_are_pages_and_delete_redirects(hooks: Hooks, admin: SessionClient) -> None:
    hook = hooks.create()
    base = page_url(hooks) + f"/webhooks/{hook.id}"
    confirm = admin.get(base + "/delete")
    assert confirm.status_code == 200 and "<html" in confirm.get_data(as_text=True)
    assert "Delete this GitHub webhook?" in confirm.get_data(as_text=True)
    rotated = admin.form(base + "/rotate")
    assert rotated.status_code == 200 and "<html" in rotated.get_data(as_text=True)
    deleted = admin.form(base + "/delete")
    assert deleted.status_code == 303
    assert deleted.headers["Location"].endswith(f"/projects/{hooks.project_id}/integrations#webhooks")
    section = admin.get(page_url(hooks) + "/webhooks")
    assert section.status_code == 302 and section.headers["Location"].endswith("#webhooks")


@pytest.mark.parametrize("provider", ["bitbucket", ""])
def test_a_tampered_provider_is_422_and_creates_nothing(hooks: Hooks, admin: SessionClient, provider: str) -> None:
    response = admin.form(page_url(hooks) + "/webhooks", {"provider": provider}, headers=HX)
    assert response.status_code == 422
    assert "Choose GitHub, GitLab or Gitea / Forgejo." in response.get_data(as_text=True)
    assert hooks.admin.api("GET", hooks.api).get_json() == []


def test_members_cannot_write_from_the_page(hooks: Hooks, member: SessionClient) -> None:
    hook = hooks.create()
    assert member.form(page_url(hooks) + "/webhooks", {"provider": "github"}).status_code == 403
    assert member.get(page_url(hooks) + f"/webhooks/{hook.id}/rotate", headers=HX).status_code == 403
    assert member.form(page_url(hooks) + f"/webhooks/{hook.id}/rotate").status_code == 403
    assert member.form(page_url(hooks) + f"/webhooks/{hook.id}/delete").status_code == 403
    assert len(hooks.admin.api("GET", hooks.api).get_json()) == 1


def test_writes_need_the_csrf_token(hooks: Hooks, admin: SessionClient) -> None:
    response = admin.client.post(page_url(hooks) + "/webhooks", data={"provider": "github"})
    assert response.status_code == 400
    assert hooks.admin.api("GET", hooks.api).get_json() == []


def test_an_archived_project_shows_no_controls(hooks: Hooks, admin: SessionClient) -> None:
    hook = hooks.create()
    hooks.admin.api("POST", f"/api/v1/projects/{hooks.project_id}/archive/")
    html = admin.get(page_url(hooks)).get_data(as_text=True)
    assert f"/hooks/github/{hook.id}" in html
    assert "Add a webhook" not in html and "/rotate" not in html
    assert admin.form(page_url(hooks) + "/webhooks", {"provider": "github"}).status_code == 403


def test_the_integrations_page_is_linked_from_the_project_navigation(hooks: Hooks, admin: SessionClient) -> None:
    html = admin.get(f"/projects/{hooks.project_id}/schedule").get_data(as_text=True)
    assert f'href="/projects/{hooks.project_id}/integrations"' in html
