"""Without REDIS_URL (SPEC §14): everything of part one works, the schedule says background
refresh is off, and the queue's routes answer 503 `queue_unavailable`."""

from __future__ import annotations

import responses
from flask import Flask

from tests.conftest import SessionClient
from tests.jobs.conftest import add_link, give_credential, job, refresh_all
from tests.links.conftest import World


def test_the_queue_routes_answer_503(world: World) -> None:
    response = refresh_all(world.member, world)
    assert response.status_code == 503 and response.get_json()["code"] == "queue_unavailable"
    status = job(world.member, "0123456789abcdef")
    assert status.status_code == 503 and status.get_json()["code"] == "queue_unavailable"


def test_the_schedule_says_background_refresh_is_off(app: Flask, world: World) -> None:
    browser = SessionClient(app.test_client(), world.member.user).login()
    html = browser.get(f"/projects/{world.project_id}/schedule").get_data(as_text=True)
    assert "Background refresh is off" in html and "Refresh all links</button>" not in html


def test_single_refresh_works_as_before(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "github")
    link = add_link(world.member, world, "https://github.com/acme/api/pull/7")
    provider.get("https://api.github.com/repos/acme/api/pulls/7", json={"state": "open", "title": "T"})
    response = world.member.api("POST", world.links_url() + f"{link['id']}/refresh/")
    assert response.status_code == 200 and response.get_json()["status"] == "open"
