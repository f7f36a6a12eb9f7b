"""Conditional requests on every refresh (SPEC §14, §17): the validators of the last good answer
go out as If-None-Match / If-Modified-Since; a 304 keeps status and title, stamps fetched_at,
clears the error, counts as a success and still gets a new sync number."""

from __future__ import annotations

from datetime import timedelta

import responses
from flask import Flask

from ppm.extensions import db
from ppm.links.models import TaskLink
from ppm.models_base import utcnow
from tests.jobs.conftest import add_link, give_credential, job, needs_redis, refresh_all, run_worker
from tests.links.conftest import World

pytestmark = needs_redis
GH = "https://api.github.com/repos/acme/api"
# GitHub answers API objects with a weak ETag and Last-Modified (docs.github.com, "Conditional
# requests": "Most responses return an ETag header. Many responses also return a Last-Modified").
ETAG = 'W/"9b2cf535f27731c974343645a3985328"'
LAST_MODIFIED = "Tue, 01 Dec 2026 10:00:00 GMT"


def _link(link_id: str) -> TaskLink:
    db.session.expire_all()
    found = db.session.get(TaskLink, link_id)
    assert found is not None
    return found


def _refresh(world: World, link_id: str) -> dict[str, object]:
    response = world.member.api("POST", world.links_url() + f"{link_id}/refresh/")
    assert response.status_code == 200
    return dict(response.get_json())


def test_a_304_keeps_values_stamps_fetched_at_clears_the_error_and_draws_a_sync_number(
    world: World, provider: responses.RequestsMock
) -> None:
    give_credential(world.member.user, "github")
    link = add_link(world.member, world, "https://github.com/acme/api/pull/7")
    provider.get(f"{GH}/pulls/7", json={"state": "open", "title": "Fix"}, headers={"ETag": ETAG})
    first = _refresh(world, link["id"])
    assert first["status"] == "open" and "etag" not in first  # internal, never in JSON
    assert _link(link["id"]).etag == ETAG
    assert "If-None-Match" not in provider.calls[0].request.headers  # nothing to send yet

    row = _link(link["id"])
    row.fetched_at = utcnow() - timedelta(hours=2)
    row.refresh_error = {"code": "provider_unreachable", "detail": "down", "at": "2026-12-01T00:00:00Z"}
    db.session.commit()
    before = _link(link["id"]).sync_number
    provider.replace(responses.GET, f"{GH}/pulls/7", status=304, body=b"")
    second = _refresh(world, link["id"])
    pull_calls = [call for call in provider.calls if call.request.url == f"{GH}/pulls/7"]  # not the §15 calls
    assert pull_calls[1].request.headers["If-None-Match"] == ETAG
    assert (second["status"], second["title"], second["refresh_error"]) == ("open", "Fix", None)
    row = _link(link["id"])
    assert row.fetched_at is not None and row.sync_number > before and row.etag == ETAG


def test_last_modified_goes_back_as_if_modified_since(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "gitlab")
    link = add_link(world.member, world, "https://gitlab.com/team/app/-/issues/4")
    url = "https://gitlab.com/api/v4/projects/team%2Fapp/issues/4"
    provider.get(url, json={"state": "opened", "title": "Issue"}, headers={"Last-Modified": LAST_MODIFIED})
    _refresh(world, link["id"])
    provider.replace(responses.GET, url, status=304, body=b"")
    assert _refresh(world, link["id"])["status"] == "open"
    assert provider.calls[1].request.headers["If-Modified-Since"] == LAST_MODIFIED


def test_a_failed_answer_keeps_the_validators(world: World, provider: responses.RequestsMock) -> None:
    give_credential(world.member.user, "github")
    link = add_link(world.member, world, "https://github.com/acme/api/issues/2")
    provider.get(f"{GH}/issues/2", json={"state": "open", "title": "x"}, headers={"ETag": ETAG})
    _refresh(world, link["id"])
    provider.replace(responses.GET, f"{GH}/issues/2", status=502, body=b"bad gateway")
    assert _refresh(world, link["id"])["refresh_error"]["code"] == "provider_unreachable"  # type: ignore[index]
    assert _link(link["id"]).etag == ETAG


def test_refresh_all_sends_validators_and_counts_304_as_done(
    app: Flask, world: World, provider: responses.RequestsMock
) -> None:
    give_credential(world.member.user, "github")
    links = [add_link(world.member, world, f"https://github.com/acme/api/issues/{n}") for n in (1, 2)]
    for n in (1, 2):
        provider.get(f"{GH}/issues/{n}", json={"state": "closed", "title": f"#{n}"}, headers={"ETag": f'"e{n}"'})
    refresh_all(world.member, world)
    run_worker(app)
    for n in (1, 2):
        provider.replace(responses.GET, f"{GH}/issues/{n}", status=304, body=b"")
    job_id = refresh_all(world.member, world).get_json()["job_id"]
    run_worker(app)
    status = job(world.member, job_id).get_json()
    assert (status["done"], status["failed"], status["errors"]) == (2, 0, {})
    assert sorted(c.request.headers.get("If-None-Match", "") for c in provider.calls[2:]) == ['"e1"', '"e2"']
    assert [_link(link["id"]).status for link in links] == ["closed", "closed"]


def test_a_preview_refresh_is_conditional_too(world: World, provider: responses.RequestsMock) -> None:
    link = add_link(world.member, world, "https://drive.google.com/file/d/abc/view")
    page = b'<html><head><meta property="og:title" content="Budget 2027"></head></html>'
    url = "https://drive.google.com/file/d/abc/view"
    provider.get(url, body=page, content_type="text/html", headers={"ETag": '"card1"'})
    assert _refresh(world, link["id"])["title"] == "Budget 2027"
    provider.replace(responses.GET, url, status=304, body=b"")
    again = _refresh(world, link["id"])
    assert provider.calls[1].request.headers["If-None-Match"] == '"card1"'
    assert (again["title"], again["refresh_error"]) == ("Budget 2027", None)
