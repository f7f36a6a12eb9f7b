"""SPEC §27 "jobs never wedge", against the real Redis: a Redis error between claiming a Refresh
all slot (or the sweep marker) and queueing its chunks frees the claim; a job with no chunk
after 60 s is failed and frees its slot; job ids are checked against their format."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
import responses
from flask import Flask
from rq import Queue

from ppm.jobs import progress
from ppm.jobs import services as jobs
from ppm.models_base import iso, utcnow
from tests.jobs.conftest import add_link, give_credential, job, needs_redis, refresh_all, run_worker
from tests.links.conftest import World

pytestmark = needs_redis
GH = "https://api.github.com/repos/acme/api"


@pytest.fixture
def redis_breaks_once(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next `enqueue_many` meets a Redis error: the claim is already made by then."""
    calls: list[int] = []
    real = Queue.enqueue_many

    def enqueue_many(self: Queue, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise redis.exceptions.ConnectionError("Redis went away between the claim and the chunks")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Queue, "enqueue_many", enqueue_many)
    return calls


def test_a_redis_error_between_claim_and_chunks_frees_the_slot(
    app: Flask, world: World, provider: responses.RequestsMock, redis_conn: redis.Redis, redis_breaks_once: list[int]
) -> None:
    give_credential(world.member.user, "github", token="ghp_member")
    add_link(world.member, world, "https://github.com/acme/api/issues/9")
    provider.get(f"{GH}/issues/9", json={"state": "open", "title": "Bug"})
    broken = refresh_all(world.member, world)
    assert broken.status_code == 503 and broken.get_json()["code"] == "queue_unavailable"
    assert redis_conn.get(progress.active_key(world.member.user.id, world.project_id)) is None
    again = refresh_all(world.member, world)
    assert again.status_code == 202, again.get_json()
    run_worker(app)
    assert job(world.member, again.get_json()["job_id"]).get_json()["state"] == "done"


def test_a_redis_error_between_the_sweep_marker_and_its_chunks_frees_the_marker(
    app: Flask, world: World, redis_conn: redis.Redis, redis_breaks_once: list[int]
) -> None:
    credential = give_credential(world.member.user, "github", token="ghp_member")
    credential.background_refresh = True
    add_link(world.member, world, "https://github.com/acme/api/issues/9")
    with pytest.raises(redis.exceptions.ConnectionError):
        jobs.sweep()
    assert redis_conn.get(jobs.SWEEP_CURRENT) is None
    record = jobs.sweep()
    assert record is not None and record.total == 1
    loaded = progress.load(redis_conn, record.id)
    assert loaded is not None and loaded.chunks


def test_a_job_without_chunks_after_60_seconds_is_failed_and_frees_its_slot(
    app: Flask, world: World, redis_conn: redis.Redis, provider: responses.RequestsMock
) -> None:
    """What a Redis too far gone to free the claim leaves behind: a live job with no chunks."""
    give_credential(world.member.user, "github", token="ghp_member")
    add_link(world.member, world, "https://github.com/acme/api/issues/9")
    record = progress.create(redis_conn, "refresh_all", world.member.user.id, world.project_id, 1)
    slot = progress.active_key(world.member.user.id, world.project_id)
    redis_conn.set(slot, record.id)
    # Within the first minute it may still be getting its chunks: left alone.
    assert job(world.member, record.id).get_json()["state"] == "queued"
    redis_conn.hset(progress.job_key(record.id), "created_at", iso(utcnow() - timedelta(seconds=61)) or "")
    assert job(world.member, record.id).get_json()["state"] == "failed"
    assert redis_conn.get(slot) is None
    started = refresh_all(world.member, world)
    assert started.status_code == 202 and started.get_json()["job_id"] != record.id
    # The sweep's marker likewise.
    sweep = progress.create(redis_conn, "sweep", "", "", 1)
    redis_conn.set(jobs.SWEEP_CURRENT, sweep.id)
    redis_conn.hset(progress.job_key(sweep.id), "created_at", iso(utcnow() - timedelta(seconds=61)) or "")
    assert jobs.sweep() is not None


@pytest.mark.parametrize("suffix", [":errors", ":links", ":beat", "x", "%0d%0a", "/../x"])
def test_job_ids_are_checked_against_their_format(
    app: Flask, world: World, redis_conn: redis.Redis, provider: responses.RequestsMock, suffix: str
) -> None:
    give_credential(world.member.user, "github", token="ghp_member")
    add_link(world.member, world, "https://github.com/acme/api/issues/9")
    provider.get(f"{GH}/issues/9", status=404, json={"message": "Not Found"})
    job_id = refresh_all(world.member, world).get_json()["job_id"]
    run_worker(app)  # the job now has an :errors hash and a :links set
    assert job(world.member, job_id).status_code == 200
    response = job(world.member, job_id + suffix)
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"
