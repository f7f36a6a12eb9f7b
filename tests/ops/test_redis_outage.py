"""Redis stopped under a running gunicorn and RQ worker: pages, logins, a single refresh and
webhook deliveries keep working; the rate limits fall back to per-process memory (still
enforced) and the log says so once; background jobs stop (Refresh all answers 503
`queue_unavailable`) and resume when Redis returns: a job queued then is run by the same worker,
which waited for Redis rather than exiting."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.ops.conftest import (
    Seeded,
    api,
    browser_login,
    github_receiver,
    job_state,
    migrated_env,
    pull_request_delivery,
    refresh_all,
    seed,
)
from tests.support.servers import GitLabStandin, Gunicorn, RedisServer, RQWorker, wait_until

FALLBACK_LINE = "falling back to in-memory storage"
LOGIN_LIMIT = 20  # per client address per minute (ppm.auth.views)
PULL = "https://github.com/acme/api/pull/7"


@pytest.fixture
def served(
    pass_database: str, own_redis: RedisServer, standin: GitLabStandin, tmp_path: Path
) -> Iterator[tuple[Gunicorn, Seeded, RQWorker]]:
    env = migrated_env(
        pass_database,
        tmp_path,
        RATELIMIT_STORAGE_URI=own_redis.url,
        RATELIMIT_ENABLED="true",
        REDIS_URL=own_redis.url,
    )
    seeded = seed(env, tasks=2, gitlab_base=standin.base_url)
    with gunicorn_and_worker(env) as (server, worker):
        yield server, seeded, worker


@contextmanager
def gunicorn_and_worker(env: dict[str, str]) -> Iterator[tuple[Gunicorn, RQWorker]]:
    # One gunicorn worker: the in-memory fallback is per process, so one process makes it observable.
    server = Gunicorn(env, workers=1)
    worker = RQWorker(env)
    try:
        yield server, worker
    finally:
        worker.stop()
        server.stop()


def _refresh_by_api(server: Gunicorn, seeded: Seeded, task_id: str) -> dict[str, object]:
    link_id = seeded.link_ids[task_id][0]
    url = f"{server.base}/api/v1/projects/{seeded.project_id}/tasks/{task_id}/links/{link_id}/refresh/"
    response = api(server.base, seeded.token).post(url, timeout=15)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _job_ends(server: Gunicorn, seeded: Seeded) -> dict[str, object]:
    pressed = refresh_all(server.base, seeded)
    assert pressed.status_code == 202, pressed.text
    job_id = pressed.json()["job_id"]
    wait_until(lambda: job_state(server.base, seeded, job_id)["state"] == "done", 90, "the worker to run the job")
    return job_state(server.base, seeded, job_id)


def test_pages_logins_refresh_and_webhooks_keep_working_without_redis_and_jobs_resume(
    served: tuple[Gunicorn, Seeded, RQWorker], own_redis: RedisServer
) -> None:
    server, seeded, worker = served
    first, second = seeded.task_ids
    assert _refresh_by_api(server, seeded, first)["status"] == "merged"
    browser_login(server.base, seeded.owner_email)
    assert FALLBACK_LINE not in server.log()
    owner = api(server.base, seeded.token)
    added = owner.post(
        f"{server.base}/api/v1/projects/{seeded.project_id}/tasks/{first}/links/", json={"url": PULL}, timeout=15
    )
    assert added.status_code == 201, added.text
    receiver = github_receiver(server.base, seeded)
    wait_until(lambda: "Listening on" in worker.log(), 60, "the worker to wait on the queue")

    own_redis.stop()

    browser, csrf = browser_login(server.base, seeded.owner_email)
    schedule = browser.get(f"{server.base}/projects/{seeded.project_id}/schedule", timeout=15)
    assert schedule.status_code == 200
    drawer = browser.get(
        f"{server.base}/projects/{seeded.project_id}/schedule?task={second}",
        headers={"HX-Request": "true", "HX-Target": "drawer"},
        timeout=15,
    )
    assert drawer.status_code == 200 and "Stand-in" not in drawer.text  # not refreshed yet
    link_id = seeded.link_ids[second][0]
    refreshed = browser.post(
        f"{server.base}/projects/{seeded.project_id}/tasks/{second}/links/{link_id}/refresh",
        data={"csrf_token": csrf},
        headers={"HX-Request": "true"},
        timeout=15,
    )
    assert refreshed.status_code == 200
    assert "Stand-in merge request 2" in refreshed.text
    again = _refresh_by_api(server, seeded, first)
    assert again["status"] == "merged" and again["refresh_error"] is None

    # GitHub's deliveries are applied: they write only to the database.
    closed = pull_request_delivery("pull_request.closed", PULL, "Closed while Redis was away", "2026-12-01T10:00:00Z")
    delivered = receiver.deliver("pull_request", closed)
    assert delivered.status_code == 200 and delivered.json() == {"matched": 1, "linked": 0}, delivered.text
    link_url = f"{server.base}/api/v1/projects/{seeded.project_id}/tasks/{first}/links/{added.json()['id']}/"
    link = owner.get(link_url, timeout=15).json()
    assert (link["status"], link["title"]) == ("closed", "Closed while Redis was away")
    # A review or CI event (SPEC §15) that names no link of the project needs no queue: it is
    # answered 200 with nothing queued, never a 500. The body is the documented `check_suite`
    # shape, trimmed to what a reader may look at.
    check_suite = {"action": "completed", "check_suite": {"head_sha": "ec26c3e5", "pull_requests": []}}
    unmatched = receiver.deliver("check_suite", check_suite)
    assert unmatched.status_code == 200 and unmatched.json() == {"queued": 0}, unmatched.text

    # Background jobs stop: Refresh all says so rather than failing.
    stopped = refresh_all(server.base, seeded)
    assert stopped.status_code == 503 and stopped.json()["code"] == "queue_unavailable"

    assert browser.get(f"{server.base}/healthz", timeout=15).status_code == 200
    ready = browser.get(f"{server.base}/readyz", timeout=15)
    assert ready.status_code == 503 and ready.json()["failed"] == ["redis", "rate_limit_storage"]

    # The limits still hold, counted in this process's memory now.
    guesses = (f"guess{n}@example.com" for n in itertools.count())
    statuses = []
    for _ in range(LOGIN_LIMIT + 1):
        response = browser.post(
            f"{server.base}/login", data={"email": next(guesses), "password": "nope", "csrf_token": csrf}, timeout=15
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) > 0
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) == {422}

    log = server.log()
    assert log.count(FALLBACK_LINE) == 1
    assert "Traceback" not in log

    # Redis returns (empty: it kept nothing): the same worker, which waited for it, runs a job
    # queued now.
    own_redis.start()
    after = _job_ends(server, seeded)  # the GitHub link is skipped: no credential for it
    assert (after["done"], after["skipped"], after["failed"]) == (2, 1, 0)
    assert worker.process.poll() is None
    assert "could not connect to Redis" in worker.log()  # it really lost Redis and waited for it
    assert browser.get(f"{server.base}/readyz", timeout=15).status_code == 200


@pytest.fixture
def busy(
    pass_database: str, own_redis: RedisServer, standin: GitLabStandin, tmp_path: Path
) -> Iterator[tuple[Gunicorn, Seeded, RQWorker]]:
    env = migrated_env(pass_database, tmp_path, REDIS_URL=own_redis.url)
    # Links under the stand-in's silent root: each call lasts the 5 s egress deadline, so the job
    # is surely in the middle of a call when Redis stops.
    seeded = seed(env, tasks=2, gitlab_base=standin.slow_base_url)
    with gunicorn_and_worker(env) as (server, worker):
        yield server, seeded, worker


def test_a_worker_busy_when_redis_stops_waits_and_runs_the_next_job(
    busy: tuple[Gunicorn, Seeded, RQWorker], own_redis: RedisServer, standin: GitLabStandin
) -> None:
    server, seeded, worker = busy
    assert refresh_all(server.base, seeded).status_code == 202
    assert standin.slow_requests.acquire(timeout=60)  # the worker is calling the provider

    own_redis.stop()

    def lost_redis() -> bool:
        return "went away during a job" in worker.log() or worker.process.poll() is not None

    wait_until(lost_redis, 60, "the worker to lose Redis mid-job")
    assert worker.process.poll() is None, worker.log()[-2000:]  # RQ alone exits here

    own_redis.start()
    after = _job_ends(server, seeded)  # queued after Redis returned; the silent host times out
    assert (after["total"], after["failed"], after["errors"]) == (2, 2, {"provider_timeout": 2}), after
    assert worker.process.poll() is None
    assert "answers again; the worker resumes" in worker.log()
