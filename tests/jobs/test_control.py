"""The schedule's Refresh all control (SPEC §14): the button, a progress fragment that polls
itself while the job runs, the end that re-renders the rows and says what failed; and the
same without JavaScript (a progress page that reloads itself)."""

from __future__ import annotations

import json

import pytest
import responses
from flask import Flask

from tests.conftest import SessionClient
from tests.jobs.conftest import add_link, give_credential, needs_redis, run_worker
from tests.links.conftest import World

pytestmark = needs_redis
GH = "https://api.github.com/repos/acme/api"
HX = {"HX-Request": "true"}


@pytest.fixture
def browser(app: Flask, world: World) -> SessionClient:
    return SessionClient(app.test_client(), world.member.user).login()


@pytest.fixture
def two_links(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "github")
    add_link(world.member, world, "https://github.com/acme/api/pull/7")
    add_link(world.member, world, "https://github.com/acme/api/issues/8")
    provider.get(f"{GH}/pulls/7", json={"state": "closed", "merged": True, "title": "Ship"})
    provider.get(f"{GH}/issues/8", status=404, json={"message": "Not Found"})


def test_the_schedule_shows_the_button(browser: SessionClient, world: World) -> None:
    html = browser.get(f"/projects/{world.project_id}/schedule").get_data(as_text=True)
    action = f"/projects/{world.project_id}/schedule/refresh-all"
    assert f'action="{action}"' in html and f'hx-post="{action}"' in html
    assert "Refresh all links</button>" in html and 'id="refresh-all-status"' in html


def test_htmx_start_polls_then_ends_with_rows_re_rendered(
    app: Flask, browser: SessionClient, world: World, two_links: None
) -> None:
    base = f"/projects/{world.project_id}/schedule/refresh-all"
    started = browser.form(base, headers=HX)
    html = started.get_data(as_text=True)
    assert started.status_code == 200 and html.lstrip().startswith('<div id="refresh-all-status"')
    assert 'hx-trigger="every 1s"' in html and '<progress id="refresh-all-bar" max="2" value="0"' in html
    assert "0 of 2 links refreshed" in html and "Refreshing 2 links" in html  # announced politely
    poll = html.split('hx-get="', 1)[1].split('"', 1)[0]
    assert browser.get(poll, headers=HX).get_data(as_text=True).count('hx-trigger="every 1s"') == 1

    run_worker(app)
    done = browser.get(poll, headers=HX)
    text = done.get_data(as_text=True)
    assert "every 1s" not in text  # polling stops
    assert 'max="2" value="2"' in text
    assert "Refreshed 2 links: 1 up to date, 1 failed (not found 1)." in text
    assert 'hx-swap-oob="innerHTML:#live-region"' in text
    events = json.loads(done.headers["HX-Trigger"])
    assert "links-changed" in events and "schedule-changed" in events


def test_without_javascript_a_page_that_reloads_itself(
    app: Flask, browser: SessionClient, world: World, two_links: None
) -> None:
    response = browser.form(f"/projects/{world.project_id}/schedule/refresh-all")
    assert response.status_code == 303
    page = browser.get(response.headers["Location"])
    assert page.status_code == 200 and page.headers["Refresh"] == "2"
    assert "<html" in page.get_data(as_text=True) and "0 of 2 links refreshed" in page.get_data(as_text=True)
    run_worker(app)
    finished = browser.get(response.headers["Location"])
    assert "Refresh" not in finished.headers
    assert "1 failed (not found 1)" in finished.get_data(as_text=True)


def test_another_person_s_progress_is_404(app: Flask, browser: SessionClient, world: World, two_links: None) -> None:
    location = browser.form(f"/projects/{world.project_id}/schedule/refresh-all").headers["Location"]
    owner = SessionClient(app.test_client(), world.owner.user).login()
    assert owner.get(location).status_code == 404
    assert owner.get(location, headers=HX).status_code == 404


def test_an_archived_project_has_no_button(browser: SessionClient, world: World) -> None:
    world.owner.api("POST", f"/api/v1/projects/{world.project_id}/archive/")
    html = browser.get(f"/projects/{world.project_id}/schedule").get_data(as_text=True)
    assert "Refresh all links</button>" not in html
