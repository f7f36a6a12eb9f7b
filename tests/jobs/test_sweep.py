"""The scheduled sweep (SPEC §14): which links and how often, whose credential (and only with
their consent), never anyone else's token, and never two sweeps at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
import responses
from flask import Flask

from ppm.extensions import db
from ppm.integrations.models import Credential
from ppm.jobs import services
from ppm.links.models import TaskLink
from ppm.models_base import utcnow
from tests.jobs.conftest import add_link, give_credential, needs_redis, run_worker
from tests.links.conftest import World

pytestmark = needs_redis
GH = "https://api.github.com/repos/acme/api"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "LINK_REFRESH_INTERVAL": 900}


def _link(link_id: str) -> TaskLink:
    db.session.expire_all()
    found = db.session.get(TaskLink, link_id)
    assert found is not None
    return found


def _set(link_id: str, **values: Any) -> None:
    row = _link(link_id)
    for name, value in values.items():
        setattr(row, name, value)
    db.session.commit()


def _consent(credential: Credential, allowed: bool = True) -> Credential:
    credential.background_refresh = allowed
    db.session.commit()
    return credential


def _sweep(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["ppm", "sweep"])
    assert result.exit_code == 0 and "Queued a sweep" in result.output, result.output
    run_worker(app)


def test_the_sweep_picks_changing_links_by_the_interval_and_settled_ones_daily(world: World) -> None:
    now = utcnow()
    cases = {
        "never fetched": ("https://github.com/acme/api/pull/1", "unknown", None, True),
        "open, 20 min": ("https://github.com/acme/api/pull/2", "open", now - timedelta(minutes=20), True),
        "draft, 20 min": ("https://github.com/acme/api/pull/3", "draft", now - timedelta(minutes=20), True),
        "open, 5 min": ("https://github.com/acme/api/pull/4", "open", now - timedelta(minutes=5), False),
        "merged, 2 h": ("https://github.com/acme/api/pull/5", "merged", now - timedelta(hours=2), False),
        "merged, 2 days": ("https://github.com/acme/api/pull/6", "merged", now - timedelta(days=2), True),
        "closed, 25 h": ("https://github.com/acme/api/issues/7", "closed", now - timedelta(hours=25), True),
        "card, 2 h": ("https://drive.google.com/file/d/abc/view", "unknown", now - timedelta(hours=2), False),
        "card, 2 days": ("https://drive.google.com/file/d/def/view", "unknown", now - timedelta(days=2), True),
        "generic": ("https://example.org/wiki", "unknown", None, False),
        "commit": ("https://github.com/acme/api/commit/0123abcd", "unknown", None, False),
    }
    ids = {}
    for name, (url, status, fetched, _) in cases.items():
        ids[name] = add_link(world.member, world, url)["id"]
        _set(ids[name], status=status, fetched_at=fetched)
    removed = add_link(world.member, world, "https://github.com/acme/api/pull/99")["id"]
    world.member.api("DELETE", world.links_url() + f"{removed}/")
    expected = {ids[name] for name, case in cases.items() if case[3]}
    assert set(services.due_links(900)) == expected
    world.owner.api("POST", f"/api/v1/projects/{world.project_id}/archive/")
    assert services.due_links(900) == []  # archived projects are left alone


def test_the_last_successful_refresher_s_token_is_used(
    app: Flask, world: World, provider: responses.RequestsMock
) -> None:
    _consent(give_credential(world.member.user, "github", token="ghp_creator"))
    _consent(give_credential(world.owner.user, "github", token="ghp_refresher"))
    link = add_link(world.member, world, "https://github.com/acme/api/pull/7")
    provider.get(f"{GH}/pulls/7", json={"state": "open", "title": "First"})
    world.owner.api("POST", world.links_url() + f"{link['id']}/refresh/")  # the owner refreshed it
    _set(link["id"], fetched_at=utcnow() - timedelta(hours=1))
    provider.replace(responses.GET, f"{GH}/pulls/7", json={"state": "closed", "merged": True, "title": "Done"})
    _sweep(app)
    pulls = [c for c in provider.calls if c.request.url == f"{GH}/pulls/7"]  # not the §15 extra calls
    assert [c.request.headers["Authorization"] for c in pulls] == ["Bearer ghp_refresher"] * 2
    assert _link(link["id"]).status == "merged"


def test_without_a_refresher_the_creator_s_token_is_used(
    app: Flask, world: World, provider: responses.RequestsMock
) -> None:
    _consent(give_credential(world.member.user, "github", token="ghp_creator"))
    link = add_link(world.member, world, "https://github.com/acme/api/issues/3")
    provider.get(f"{GH}/issues/3", json={"state": "open", "title": "Bug"})
    _sweep(app)
    assert [c.request.headers["Authorization"] for c in provider.calls] == ["Bearer ghp_creator"]
    refreshed = _link(link["id"])
    assert refreshed.status == "open" and refreshed.last_refreshed_by_id == world.member.user.id


def test_a_refresher_who_left_the_project_means_credential_required_and_values_kept(
    app: Flask, world: World, provider: responses.RequestsMock
) -> None:
    _consent(give_credential(world.member.user, "github"))
    _consent(give_credential(world.owner.user, "github", token="ghp_owner"))  # never used for it
    link = add_link(world.member, world, "https://github.com/acme/api/pull/7")
    _set(link["id"], status="open", title="Cached", fetched_at=utcnow() - timedelta(hours=1))
    member_id = world.member.user.id
    world.owner.api("DELETE", f"/api/v1/projects/{world.project_id}/members/{member_id}/")
    _sweep(app)
    assert len(provider.calls) == 0
    row = _link(link["id"])
    assert row.refresh_error is not None and row.refresh_error["code"] == "credential_required"
    assert (row.status, row.title) == ("open", "Cached")


def test_a_credential_for_another_host_means_credential_required(
    app: Flask, world: World, provider: responses.RequestsMock
) -> None:
    _consent(give_credential(world.member.user, "github", base_url="https://ghe.example.com"))
    link = add_link(world.member, world, "https://github.com/acme/api/pull/7")
    _sweep(app)
    assert len(provider.calls) == 0
    row = _link(link["id"])
    assert row.refresh_error is not None and row.refresh_error["code"] == "credential_required"


def test_without_consent_the_link_is_left_alone(
    app: Flask, world: World, provider: responses.RequestsMock, redis_conn: redis.Redis
) -> None:
    give_credential(world.member.user, "github")  # background_refresh stays off (the default)
    _consent(give_credential(world.owner.user, "github", token="ghp_owner"))  # someone else's: never
    link = add_link(world.member, world, "https://github.com/acme/api/pull/7")
    before = _link(link["id"]).sync_number
    _sweep(app)
    assert len(provider.calls) == 0
    row = _link(link["id"])
    assert row.fetched_at is None and row.refresh_error is None and row.sync_number == before
    record = services.progress.load(redis_conn, services.progress.get_text(redis_conn, services.SWEEP_CURRENT) or "")
    assert record is not None and (record.total, record.skipped, record.failed) == (1, 1, 0)


def test_nobody_opted_in_means_no_polling_at_all(app: Flask, world: World, provider: responses.RequestsMock) -> None:
    for person in (world.owner, world.member, world.viewer):
        give_credential(person.user, "github")
    for number in range(3):
        add_link(world.member, world, f"https://github.com/acme/api/issues/{number + 1}")
    add_link(world.member, world, "https://drive.google.com/file/d/abc/view")  # no token, still polling
    _sweep(app)
    assert len(provider.calls) == 0


def test_cloud_cards_are_swept_with_their_owner_s_consent(
    app: Flask, world: World, provider: responses.RequestsMock
) -> None:
    _consent(give_credential(world.member.user, "github"))  # a yes to background refresh
    link = add_link(world.member, world, "https://drive.google.com/file/d/abc/view")
    page = b'<html><head><meta property="og:title" content="Budget"></head></html>'
    provider.get("https://drive.google.com/file/d/abc/view", body=page, content_type="text/html")
    _sweep(app)
    assert len(provider.calls) == 1 and "Authorization" not in provider.calls[0].request.headers
    assert _link(link["id"]).title == "Budget"


def test_a_sweep_never_overlaps_itself(app: Flask, world: World, redis_conn: redis.Redis) -> None:
    _consent(give_credential(world.member.user, "github"))
    add_link(world.member, world, "https://github.com/acme/api/issues/1")
    first = services.sweep()
    assert first is not None and first.total == 1
    assert services.sweep() is None  # the first one's refreshes are still queued
    redis_conn.set(services.SWEEP_LOCK, "another worker")
    assert services.sweep() is None  # another worker is choosing links right now
    redis_conn.delete(services.SWEEP_LOCK)


def test_one_tick_per_interval_across_workers(app: Flask, redis_conn: redis.Redis) -> None:
    assert services.tick(redis_conn, 900) is not None
    assert services.tick(redis_conn, 900) is None  # another worker, same interval
    assert services.tick(redis_conn, 0) is None  # 0 turns the schedule off
    assert 0 < int(redis_conn.ttl(services.SWEEP_TICK)) <= 900  # type: ignore[arg-type]


def test_refreshes_queued_for_a_webhook_follow_the_sweep_s_rules(
    app: Flask, world: World, provider: responses.RequestsMock
) -> None:
    _consent(give_credential(world.member.user, "github", token="ghp_creator"))
    give_credential(world.owner.user, "github", token="ghp_owner")
    mine = add_link(world.member, world, "https://github.com/acme/api/pull/7")
    theirs = add_link(world.owner, world, "https://github.com/acme/api/pull/8")  # owner: no consent
    provider.get(f"{GH}/pulls/7", json={"state": "open", "title": "Seven"})
    record = services.queue_background_refresh([mine["id"], theirs["id"]])
    run_worker(app)
    # Every call (the pull request's and its §15 extra calls) with the creator's token only.
    assert {c.request.headers["Authorization"] for c in provider.calls} == {"Bearer ghp_creator"}
    assert [c.request.url for c in provider.calls if c.request.url.endswith("/pulls/7")] == [f"{GH}/pulls/7"]
    assert _link(mine["id"]).status == "open" and _link(theirs["id"]).fetched_at is None
    assert record.kind == "webhook" and record.total == 2
