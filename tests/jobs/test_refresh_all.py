"""Refresh all (SPEC §14): the route and its job, counted and written exactly as single refresh
would, with the requesting person's credentials; one job per person and project; only its
starter may read it."""

from __future__ import annotations

from typing import Any

import redis
import responses
from flask import Flask

from ppm.extensions import db
from ppm.links.models import TaskLink
from tests.jobs.conftest import add_link, give_credential, job, needs_redis, refresh_all, run_worker
from tests.links.conftest import World

pytestmark = needs_redis
GH = "https://api.github.com/repos/acme/api"
JOB_FIELDS = {
    "id",
    "kind",
    "state",
    "total",
    "done",
    "failed",
    "skipped",
    "errors",
    "created_at",
    "started_at",
    "finished_at",
}


def _link(link_id: str) -> TaskLink:
    db.session.expire_all()
    found = db.session.get(TaskLink, link_id)
    assert found is not None
    return found


def test_refresh_all_counts_done_failed_and_skipped_with_errors_by_code(
    app: Flask, world: World, provider: responses.RequestsMock
) -> None:
    give_credential(world.member.user, "github", token="ghp_member")
    pull = add_link(world.member, world, "https://github.com/acme/api/pull/7")
    issue = add_link(world.member, world, "https://github.com/acme/api/issues/9")
    gone = add_link(world.member, world, "https://github.com/acme/api/issues/10")
    mr = add_link(world.member, world, "https://gitlab.com/team/app/-/merge_requests/3")  # no GitLab token
    add_link(world.member, world, "https://example.org/wiki")  # generic: nothing to refresh
    add_link(world.member, world, "https://github.com/acme/api/tree/main")  # no live status
    provider.get(f"{GH}/pulls/7", json={"state": "closed", "merged": True, "title": "Ship"})
    provider.get(f"{GH}/issues/9", json={"state": "open", "title": "Bug"})
    provider.get(f"{GH}/issues/10", status=404, json={"message": "Not Found"})

    response = refresh_all(world.member, world)
    assert response.status_code == 202
    body = response.get_json()
    assert set(body) == {"job_id", "status_url"} and body["status_url"] == f"/api/v1/jobs/{body['job_id']}/"
    queued = job(world.member, body["job_id"]).get_json()
    assert set(queued) == JOB_FIELDS
    assert queued["state"] == "queued" and queued["total"] == 4 and queued["kind"] == "refresh_all"
    assert queued["started_at"] is None and queued["finished_at"] is None

    run_worker(app)

    status = job(world.member, body["job_id"]).get_json()
    assert status["state"] == "done"
    assert (status["total"], status["done"], status["failed"], status["skipped"]) == (4, 2, 1, 1)
    assert status["errors"] == {"not_found": 1}
    assert status["started_at"] and status["finished_at"] and status["created_at"]
    assert _link(pull["id"]).status == "merged" and _link(pull["id"]).title == "Ship"
    assert _link(issue["id"]).status == "open"
    failed = _link(gone["id"])
    assert failed.refresh_error is not None and failed.refresh_error["code"] == "not_found"
    assert failed.status == "unknown"  # kept, not cleared
    skipped = _link(mr["id"])
    assert skipped.fetched_at is None and skipped.refresh_error is None  # skipped: untouched
    # Every call carried the requesting person's token.
    assert {call.request.headers["Authorization"] for call in provider.calls} == {"Bearer ghp_member"}


def test_each_written_link_gets_a_new_sync_number_like_a_single_refresh(
    app: Flask, world: World, provider: responses.RequestsMock
) -> None:
    give_credential(world.owner.user, "github")
    link = add_link(world.member, world, "https://github.com/acme/api/pull/7")
    before = _link(link["id"]).sync_number
    provider.get(f"{GH}/pulls/7", json={"state": "open", "title": "Open"})
    refresh_all(world.owner, world)
    run_worker(app)
    delta = world.owner.api("GET", f"/api/v1/projects/{world.project_id}/sync/?since={before}").get_json()
    assert [row["id"] for row in delta["task_links"]["updated"]] == [link["id"]]
    assert delta["task_links"]["updated"][0]["status"] == "open"
    assert _link(link["id"]).sync_number > before


def test_only_stale_refreshes_never_fetched_old_and_failed_links_only(
    app: Flask, world: World, provider: responses.RequestsMock
) -> None:
    from datetime import timedelta

    from ppm.models_base import utcnow

    give_credential(world.member.user, "github")
    fresh = add_link(world.member, world, "https://github.com/acme/api/issues/1")
    old = add_link(world.member, world, "https://github.com/acme/api/issues/2")
    broken = add_link(world.member, world, "https://github.com/acme/api/issues/3")
    never = add_link(world.member, world, "https://github.com/acme/api/issues/4")
    now = utcnow()
    rows = {link["id"]: _link(link["id"]) for link in (fresh, old, broken)}
    rows[fresh["id"]].fetched_at = now - timedelta(minutes=5)
    rows[old["id"]].fetched_at = now - timedelta(minutes=16)
    rows[broken["id"]].fetched_at = now - timedelta(minutes=1)
    rows[broken["id"]].refresh_error = {"code": "not_found", "detail": "x", "at": "z"}
    db.session.commit()
    for number in (2, 3, 4):
        provider.get(f"{GH}/issues/{number}", json={"state": "closed", "title": f"#{number}"})

    body = refresh_all(world.member, world, only_stale=True).get_json()
    run_worker(app)
    assert job(world.member, body["job_id"]).get_json()["total"] == 3
    assert sorted(call.request.url.rsplit("/", 1)[1] for call in provider.calls) == ["2", "3", "4"]
    assert _link(never["id"]).status == "closed" and _link(fresh["id"]).status == "unknown"


def test_one_job_per_person_and_project_while_queued(
    app: Flask, world: World, provider: responses.RequestsMock
) -> None:
    give_credential(world.member.user, "github")
    add_link(world.member, world, "https://github.com/acme/api/issues/1")
    provider.get(f"{GH}/issues/1", json={"state": "open", "title": "x"})
    first = refresh_all(world.member, world).get_json()["job_id"]
    assert refresh_all(world.member, world).get_json()["job_id"] == first
    other = refresh_all(world.owner, world).get_json()["job_id"]  # another person: their own job
    assert other != first
    run_worker(app)
    assert job(world.member, first).get_json()["state"] == "done"
    again = refresh_all(world.member, world).get_json()["job_id"]
    assert again != first  # the first one ended: a new job


def test_only_the_starter_reads_a_job(world: World) -> None:
    add_link(world.member, world, "https://github.com/acme/api/issues/1")
    job_id = refresh_all(world.member, world).get_json()["job_id"]
    for other in (world.owner, world.viewer, world.stranger):
        response = job(other, job_id)
        assert response.status_code == 404 and response.get_json()["code"] == "not_found"
    assert job(world.member, "no-such-job").status_code == 404
    assert job(world.member, job_id).status_code == 200


def test_refresh_all_needs_membership_and_a_live_project(world: World) -> None:
    stranger = refresh_all(world.stranger, world)
    assert stranger.status_code == 404
    assert refresh_all(world.viewer, world).status_code == 202  # viewers may refresh
    world.owner.api("POST", f"/api/v1/projects/{world.project_id}/archive/")
    archived = refresh_all(world.member, world)
    assert archived.status_code == 403 and archived.get_json()["code"] == "project_archived"


def test_bad_only_stale_is_a_400_on_that_field(world: World) -> None:
    response = refresh_all(world.member, world, only_stale="yes")
    assert response.status_code == 400 and "only_stale" in response.get_json()["fields"]


def test_a_credential_for_another_host_is_no_credential(
    app: Flask, world: World, provider: responses.RequestsMock
) -> None:
    give_credential(world.member.user, "github", base_url="https://ghe.example.com")  # Enterprise, not github.com
    link = add_link(world.member, world, "https://github.com/acme/api/pull/7")
    job_id = refresh_all(world.member, world).get_json()["job_id"]
    run_worker(app)
    status = job(world.member, job_id).get_json()
    assert (status["done"], status["failed"], status["skipped"]) == (0, 0, 1)
    assert len(provider.calls) == 0 and _link(link["id"]).fetched_at is None


def test_an_empty_project_is_a_finished_job(app: Flask, world: World) -> None:
    body = refresh_all(world.member, world).get_json()
    status = job(world.member, body["job_id"]).get_json()
    assert status["state"] == "done" and status["total"] == 0


def test_progress_lives_in_redis_where_web_and_workers_read_it(world: World, redis_conn: redis.Redis) -> None:
    add_link(world.member, world, "https://github.com/acme/api/issues/1")
    job_id = refresh_all(world.member, world).get_json()["job_id"]
    stored: Any = redis_conn.hgetall(f"ppm:job:{job_id}")
    assert stored[b"state"] == b"queued" and stored[b"total"] == b"1"


def test_one_link_s_surprise_does_not_stop_the_others(
    app: Flask, world: World, provider: responses.RequestsMock, monkeypatch: Any
) -> None:
    from ppm.links import services as links

    give_credential(world.member.user, "github")
    broken = add_link(world.member, world, "https://github.com/acme/api/issues/1")
    fine = add_link(world.member, world, "https://github.com/acme/api/issues/2")
    provider.get(f"{GH}/issues/2", json={"state": "open", "title": "Fine"})
    real = links.perform_refresh

    def flaky(plan: Any) -> Any:
        if plan.link_id == broken["id"]:
            raise RuntimeError("a bug")
        return real(plan)

    monkeypatch.setattr(links, "perform_refresh", flaky)
    job_id = refresh_all(world.member, world).get_json()["job_id"]
    run_worker(app)
    status = job(world.member, job_id).get_json()
    assert (status["state"], status["done"], status["failed"], status["errors"]) == (
        "done",
        1,
        1,
        {"internal_error": 1},
    )
    assert _link(fine["id"]).status == "open" and _link(broken["id"]).refresh_error is None
