"""Faults (SPEC §14): a worker killed in the middle of a Refresh all loses nothing it wrote and
the job's chunk runs again to finish the rest (a real forked RQ worker, its work horse killed
with SIGKILL); a worker killed whole has its job failed within seconds, and Refresh all again
finishes the rest, while a slow job that still beats is never taken for dead; Redis going away
stops background work only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
import responses
from flask import Flask
from rq.job import Job, JobStatus

from ppm.extensions import db
from ppm.jobs import limits, progress
from ppm.links.models import TaskLink
from tests.conftest import TEST_KEY, SessionClient
from tests.jobs.conftest import add_link, give_credential, job, needs_redis, refresh_all
from tests.links.conftest import World
from tests.support.provider_standin import ProviderStandIn, running_standin
from tests.support.settings import TEST_REDIS_URL

pytestmark = needs_redis
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **app_config,
        "INTEGRATION_ALLOWED_HOSTS": [*app_config["INTEGRATION_ALLOWED_HOSTS"], "localhost"],
        "EGRESS_ALLOWLISTED_HOSTS": ["localhost"],
        "INTEGRATION_ALLOW_HTTP": True,
    }


@pytest.fixture
def standin() -> Iterator[ProviderStandIn]:
    with running_standin(delay=0.15) as server:
        yield server


def _wait(what: str, check: Callable[[], bool], seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(child) for child in text.split()]


WorkerStarter = Callable[[], "subprocess.Popen[bytes]"]


@pytest.fixture
def start_worker(app: Flask, tmp_path: Path) -> Iterator[WorkerStarter]:
    """Starts `flask --app wsgi ppm worker` (RQ's forking worker) in its own process, as often
    as a test asks; each logs to worker.log and is stopped at the end."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "worker-test",
        "INTEGRATION_ENCRYPTION_KEY": TEST_KEY,
        "REDIS_URL": TEST_REDIS_URL,
        "LINK_REFRESH_INTERVAL": "0",
        "INTEGRATION_ALLOWED_HOSTS": "localhost",
        "EGRESS_ALLOWLISTED_HOSTS": "localhost",
        "INTEGRATION_ALLOW_HTTP": "true",
        "PPM_INSTANCE_PATH": str(tmp_path / "worker-instance"),
    }
    log = (tmp_path / "worker.log").open("ab")
    workers: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "ppm", "worker"]
        workers.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log))
        return workers[-1]

    try:
        yield start
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(timeout=5)
        log.close()


@pytest.fixture
def forked_worker(start_worker: WorkerStarter) -> subprocess.Popen[bytes]:
    return start_worker()


def _written(link_ids: list[str]) -> set[str]:
    db.session.expire_all()
    rows = db.session.query(TaskLink).filter(TaskLink.id.in_(link_ids), TaskLink.fetched_at.is_not(None))
    return {row.id for row in rows}


def test_a_killed_work_horse_loses_nothing_and_the_rerun_finishes_the_rest(
    app: Flask, world: World, standin: ProviderStandIn, forked_worker: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    give_credential(world.member.user, "github", base_url=standin.base_url)
    ids = [add_link(world.member, world, f"{standin.base_url}/acme/api/pull/{n}")["id"] for n in range(1, 31)]
    job_id = refresh_all(world.member, world).get_json()["job_id"]

    def horse_busy() -> bool:
        return len(_written(ids)) >= 3 and bool(_children(forked_worker.pid))

    _wait("the worker to write a few links", horse_busy)
    horse = _children(forked_worker.pid)[0]
    os.kill(horse, signal.SIGKILL)
    written_at_kill = _written(ids)
    _wait("the job to finish", lambda: job(world.member, job_id).get_json()["state"] in ("done", "failed"))

    log = (tmp_path / "worker.log").read_text()
    assert "Work-horse terminated unexpectedly" in log  # it really died mid-job
    status = job(world.member, job_id).get_json()
    assert status["state"] == "done", (status, log[-2000:])
    assert (status["total"], status["done"], status["failed"], status["skipped"]) == (30, 30, 0, 0)
    assert _written(ids) == set(ids) and written_at_kill <= set(ids)
    db.session.expire_all()
    assert {row.status for row in db.session.query(TaskLink).filter(TaskLink.id.in_(ids))} == {"merged"}
    # Links written before the kill were not fetched again; at most the one in flight was.
    pulls = {path: n for path, n in standin.by_path.items() if path.rsplit("/", 1)[-1].isdigit()}  # not §15 calls
    assert max(pulls.values()) <= 2 and sum(pulls.values()) <= 31


# --- the whole worker dies ----------------------------------------------------------------------


def _dead(pid: int) -> bool:
    """Gone, or a zombie nobody has reaped yet (it runs no more code either way)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _values(link_ids: list[str] | set[str]) -> dict[str, tuple[Any, ...]]:
    db.session.expire_all()
    rows = db.session.query(TaskLink).filter(TaskLink.id.in_(link_ids))
    return {row.id: (row.status, row.title, row.fetched_at, row.refresh_error) for row in rows}


def _pull_calls(standin: ProviderStandIn) -> dict[str, int]:
    return {path: n for path, n in standin.by_path.items() if path.rsplit("/", 1)[-1].isdigit()}  # not §15 calls


def test_a_worker_killed_whole_is_given_up_and_refresh_all_again_finishes_the_rest(
    app: Flask, world: World, standin: ProviderStandIn, start_worker: WorkerStarter, tmp_path: Path
) -> None:
    give_credential(world.member.user, "github", base_url=standin.base_url)
    ids = [add_link(world.member, world, f"{standin.base_url}/acme/api/pull/{n}")["id"] for n in range(1, 31)]
    first = start_worker()
    job_id = refresh_all(world.member, world).get_json()["job_id"]
    _wait("the worker to write a few links", lambda: len(_written(ids)) >= 3 and bool(_children(first.pid)))

    # The whole worker dies at once (the OOM killer, `docker kill`): the parent first, so that it
    # cannot see its horse die and retry the chunk; the horse is killed by its own id, as RQ
    # gives it a process group of its own.
    horse = _children(first.pid)[0]
    os.kill(first.pid, signal.SIGKILL)
    os.kill(horse, signal.SIGKILL)
    first.wait(timeout=10)
    _wait("the work horse to die", lambda: _dead(horse), seconds=10)
    written_at_kill = _values(_written(ids))
    assert 3 <= len(written_at_kill) < 30

    # No worker runs now, so RQ's own cleanup would never come; the job's status says it failed
    # once its chunk stopped beating, and in words on the progress fragment.
    _wait("the job to be given up", lambda: job(world.member, job_id).get_json()["state"] != "running")
    given_up = job(world.member, job_id).get_json()
    assert given_up["state"] == "failed" and given_up["finished_at"], given_up
    # (a link written but not yet counted when the worker died is counted by the next run)
    assert given_up["done"] in (len(written_at_kill) - 1, len(written_at_kill)), given_up
    assert given_up["failed"] == given_up["skipped"] == 0 and given_up["errors"] == {}, given_up
    browser = SessionClient(app.test_client(), world.member.user).login()
    fragment = browser.get(
        f"/projects/{world.project_id}/schedule/refresh-all/{job_id}", headers={"HX-Request": "true"}
    )
    text = fragment.get_data(as_text=True)
    assert "every 1s" not in text, text
    assert f"Refresh all stopped after {given_up['done']} of 30 links" in text and "again to finish" in text
    assert _values(written_at_kill) == written_at_kill  # nothing already written was lost
    assert "Work-horse terminated unexpectedly" not in (tmp_path / "worker.log").read_text()  # nobody retried

    start_worker()
    again = refresh_all(world.member, world).get_json()["job_id"]
    assert again != job_id
    _wait("the new job to finish", lambda: job(world.member, again).get_json()["state"] in ("done", "failed"))
    status = job(world.member, again).get_json()
    assert (status["state"], status["total"], status["done"], status["failed"], status["skipped"]) == (
        "done", 30, 30, 0, 0
    ), status  # fmt: skip
    assert job(world.member, job_id).get_json() == given_up  # its late chunks ran nothing, counted nothing
    finished = _values(ids)
    assert all(value[0] == "merged" and not value[3] for value in finished.values()), finished
    assert all(finished[link][:2] == written_at_kill[link][:2] for link in written_at_kill)
    assert max(_pull_calls(standin).values()) <= 2 and len(_pull_calls(standin)) == 30


def test_a_slow_job_that_still_beats_is_not_taken_for_dead(
    app: Flask,
    world: World,
    standin: ProviderStandIn,
    forked_worker: subprocess.Popen[bytes],
    redis_conn: redis.Redis,
) -> None:
    """Another process holds every call slot for localhost for longer than a lost worker is
    given: the chunk waits without counting anything, yet it is alive and must not be failed."""
    give_credential(world.member.user, "github", base_url=standin.base_url)
    ids = [add_link(world.member, world, f"{standin.base_url}/acme/api/pull/{n}")["id"] for n in range(1, 4)]
    held_for = progress.LOST_AFTER_SECONDS + 10
    leases_from = int(time.time() * 1000) - (limits.LEASE_SECONDS - held_for) * 1000
    redis_conn.zadd("ppm:host-slots:localhost", {f"elsewhere-{n}": leases_from for n in range(limits.HOST_CONCURRENCY)})
    job_id = refresh_all(world.member, world).get_json()["job_id"]
    chunk_id = progress.load(redis_conn, job_id).chunks[0]  # type: ignore[union-attr]
    waited_long: list[bool] = []

    def still_live_until_done() -> bool:
        status = job(world.member, job_id).get_json()
        if status["state"] == "done":
            return True
        assert status["state"] in ("queued", "running"), status
        chunk = Job.fetch(chunk_id, connection=redis_conn)
        started = chunk.started_at
        if status["done"] == 0 and started and (datetime.now(UTC) - started).total_seconds() > held_for - 5:
            # Stuck longer than a lost worker is given, counting nothing: the press gets it back.
            assert chunk.get_status() == JobStatus.STARTED
            assert refresh_all(world.member, world).get_json()["job_id"] == job_id
            waited_long.append(True)
        return False

    _wait("the slow job to finish", still_live_until_done, seconds=120)
    assert waited_long, "the chunk never waited longer than a lost worker is given"
    status = job(world.member, job_id).get_json()
    assert (status["total"], status["done"], status["failed"], status["skipped"]) == (3, 3, 0, 0), status
    assert _written(ids) == set(ids)


# --- Redis stops -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A throwaway Redis for this test alone (stopping the shared test Redis would break others)."""
    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait("redis to listen", lambda: _accepts(port), seconds=10)
    try:
        yield f"redis://127.0.0.1:{port}/0", server
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(timeout=10)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


@pytest.fixture
def app_with_own_redis(app: Flask, own_redis: tuple[str, subprocess.Popen[bytes]]) -> Flask:
    app.config["REDIS_URL"] = own_redis[0]
    return app


def test_redis_going_away_stops_background_work_only(
    app_with_own_redis: Flask,
    own_redis: tuple[str, subprocess.Popen[bytes]],
    world: World,
    provider: responses.RequestsMock,
) -> None:
    app = app_with_own_redis
    give_credential(world.member.user, "github")
    link = add_link(world.member, world, "https://github.com/acme/api/pull/7")
    job_id = refresh_all(world.member, world).get_json()["job_id"]
    assert job(world.member, job_id).status_code == 200

    server = own_redis[1]
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=10)
    port = int(own_redis[0].rsplit(":", 1)[1].split("/")[0])
    _wait("redis to stop listening", lambda: not _accepts(port), seconds=10)

    browser = SessionClient(app.test_client(), world.member.user).login()
    page = browser.get(f"/projects/{world.project_id}/schedule")
    assert page.status_code == 200 and "Background refresh is unavailable right now" in page.get_data(as_text=True)
    provider.get("https://api.github.com/repos/acme/api/pulls/7", json={"state": "open", "title": "Still works"})
    single = world.member.api("POST", world.links_url() + f"{link['id']}/refresh/")
    assert single.status_code == 200 and single.get_json()["title"] == "Still works"
    for response in (refresh_all(world.member, world), job(world.member, job_id)):
        assert response.status_code == 503 and response.get_json()["code"] == "queue_unavailable"
    fragment = browser.form(f"/projects/{world.project_id}/schedule/refresh-all", headers={"HX-Request": "true"})
    assert fragment.status_code == 503 and "unavailable right now" in fragment.get_data(as_text=True)
