"""20 writers on one project at once on PostgreSQL: 18 people (task edits on the same few
tasks, link adds racing on the same URLs, link edits and removals, new subtasks under one
summary), GitHub delivering signed `pull_request` events about the racing URLs to a receiver of
the project (redeliveries too), and the owner pressing Refresh all with an RQ worker running the
jobs against a loopback GitLab. No deadlock, no 5xx, every job finishes, and an offline client
syncing all along ends with exactly the server's state.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests

from ppm.extensions import db
from ppm_offline.remote import SyncClient
from ppm_offline.store import Store
from ppm_offline.sync import sync_project
from tests.ops.conftest import (
    Receiver,
    Seeded,
    api,
    fresh_database_on,
    github_receiver,
    in_app,
    job_state,
    migrated_env,
    pull_request_delivery,
    refresh_all,
    seed,
)
from tests.support.servers import GitLabStandin, Gunicorn, PostgresCluster, RedisServer, RQWorker, wait_until
from tests.sync.helpers import live_state

WRITERS = 20
PEOPLE = WRITERS - 2  # the other two: GitHub's deliveries and the owner's Refresh all
ROUNDS = 10
TASKS = 5  # each with one merge request link on the GitLab stand-in, which Refresh all refreshes
SHARED_URLS = [f"https://github.com/acme/api/pull/{n}" for n in range(3)]
ALLOWED = {200, 201, 202, 204, 409}
EXAMPLES = ["pull_request.opened", "pull_request.closed", "pull_request.reopened", "pull_request.labeled"]


@pytest.fixture
def served(
    own_postgres: PostgresCluster, own_redis: RedisServer, standin: GitLabStandin, tmp_path: Path
) -> Iterator[tuple[Gunicorn, Seeded, dict[str, str], RQWorker]]:
    env = migrated_env(fresh_database_on(own_postgres), tmp_path, REDIS_URL=own_redis.url)
    seeded = seed(env, tasks=TASKS, members=PEOPLE, gitlab_base=standin.base_url)
    # As many request threads as writers, so their transactions really overlap in the database.
    server = Gunicorn(env, workers=4, extra_args=("--threads", "5"))
    worker = RQWorker(env)
    yield server, seeded, env, worker
    worker.stop()
    server.stop()


class Writer(threading.Thread):
    """One writer: counts the answers it got and keeps any it should never get."""

    def __init__(self, start_line: threading.Barrier) -> None:
        super().__init__(daemon=True)
        self.start_line = start_line
        self.statuses: Counter[int] = Counter()
        self.unexpected: list[str] = []

    def check(self, what: str, send: Any) -> requests.Response | None:
        try:
            response: requests.Response = send()
        except requests.RequestException as error:
            self.unexpected.append(f"{what}: {error!r}")
            return None
        self.statuses[response.status_code] += 1
        if response.status_code not in ALLOWED:
            self.unexpected.append(f"{what}: {response.status_code} {response.text[:300]}")
        return response


class Person(Writer):
    def __init__(self, n: int, base: str, seeded: Seeded, start_line: threading.Barrier) -> None:
        super().__init__(start_line)
        self.n, self.seeded = n, seeded
        self.client = api(base, seeded.members[n][1])
        self.project = f"{base}/api/v1/projects/{seeded.project_id}"
        self.random = random.Random(n)
        self.my_links: list[tuple[str, str]] = []

    def call(self, method: str, url: str, **kwargs: Any) -> requests.Response | None:
        return self.check(
            f"{method} {url}", lambda: self.client.request(method, self.project + url, timeout=60, **kwargs)
        )

    def run(self) -> None:
        self.start_line.wait()
        tasks = self.seeded.task_ids
        editable = [tasks[0], *tasks[2:]]  # tasks[1] becomes a summary: its dates roll up
        for round_ in range(ROUNDS):
            task = self.random.choice(editable)
            start = date(2026, 12, 1) + timedelta(days=self.random.randrange(30))
            self.call(
                "PATCH",
                f"/tasks/{task}/",
                json={
                    "name": f"Edited by {self.n} in round {round_}",
                    "start_date": start.isoformat(),
                    "finish_date": (start + timedelta(days=3)).isoformat(),
                },
            )
            url = (
                self.random.choice(SHARED_URLS)
                if round_ % 3 == 0
                else f"https://github.com/acme/w{self.n}/pull/{round_}"
            )
            added = self.call("POST", f"/tasks/{tasks[0]}/links/", json={"url": url, "labels": [f"w{self.n}"]})
            if added is not None and added.status_code == 201:
                self.my_links.append((tasks[0], added.json()["id"]))
            if round_ % 4 == 1 and self.my_links:
                task_id, link_id = self.my_links[-1]
                self.call("PATCH", f"/tasks/{task_id}/links/{link_id}/", json={"custom_title": f"Writer {self.n}"})
            if round_ % 5 == 4 and self.my_links:
                task_id, link_id = self.my_links.pop(0)
                self.call("DELETE", f"/tasks/{task_id}/links/{link_id}/")
            if round_ % 5 == 2:
                child = {"name": f"Sub {self.n}.{round_}", "parent_id": tasks[1], "start_date": start.isoformat()}
                self.call("POST", "/tasks/", json={**child, "finish_date": (start + timedelta(days=1)).isoformat()})


class GitHub(Writer):
    """Deliveries about the racing URLs while the people write, each a later version of its pull
    request; every fifth is delivered twice (GitHub's redelivery: the same id)."""

    def __init__(self, receiver: Receiver, start_line: threading.Barrier, people_done: threading.Event) -> None:
        super().__init__(start_line)
        self.receiver, self.people_done = receiver, people_done
        self.matched = 0

    def run(self) -> None:
        self.start_line.wait()
        k = 0
        while not self.people_done.is_set() or k < 20:
            k += 1
            version = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=k)
            payload = pull_request_delivery(
                EXAMPLES[k % len(EXAMPLES)], SHARED_URLS[k % 3], f"Delivery {k}", version.strftime("%Y-%m-%dT%H:%M:%SZ")
            )
            send = partial(self.receiver.deliver, "pull_request", payload, str(uuid.uuid4()))
            for _ in range(2 if k % 5 == 0 else 1):
                answer = self.check(f"delivery {k}", send)
                if answer is not None and answer.status_code == 200:
                    self.matched += int(answer.json().get("matched", 0))
            time.sleep(0.05)


class Refresher(Writer):
    """The owner presses Refresh all now and then (a press while their job runs gets that job)."""

    def __init__(self, base: str, seeded: Seeded, start_line: threading.Barrier, people_done: threading.Event) -> None:
        super().__init__(start_line)
        self.base, self.seeded, self.people_done = base, seeded, people_done
        self.jobs: set[str] = set()

    def run(self) -> None:
        self.start_line.wait()
        while not self.people_done.is_set() or not self.jobs:
            answer = self.check("Refresh all", lambda: refresh_all(self.base, self.seeded))
            if answer is not None and answer.status_code == 202:
                self.jobs.add(answer.json()["job_id"])
            self.people_done.wait(1.0)


def test_twenty_writers_no_deadlock_no_5xx_and_the_offline_copy_converges(
    served: tuple[Gunicorn, Seeded, dict[str, str], RQWorker], own_postgres: PostgresCluster, tmp_path: Path
) -> None:
    server, seeded, env, worker = served
    start_line = threading.Barrier(WRITERS)
    people_done = threading.Event()
    people = [Person(n, server.base, seeded, start_line) for n in range(PEOPLE)]
    github = GitHub(github_receiver(server.base, seeded), start_line, people_done)
    refresher = Refresher(server.base, seeded, start_line, people_done)
    writers: list[Writer] = [*people, github, refresher]
    store_path = tmp_path / "offline.sqlite3"
    done = threading.Event()
    syncs: list[int] = []
    sync_errors: list[str] = []

    def offline_client() -> None:
        store = Store.open(store_path)
        remote = SyncClient(server.base, seeded.token)
        try:
            while not done.is_set():
                try:
                    result = sync_project(
                        store,
                        seeded.project_id,
                        server.base,
                        lambda s, n: remote.fetch_page(seeded.project_id, s, n),
                        limit=7,
                    )
                    syncs.append(result.cursor)
                except Exception as error:  # any failure here is a finding
                    sync_errors.append(repr(error))
                done.wait(0.1)
        finally:
            store.close()

    syncer = threading.Thread(target=offline_client, daemon=True)
    syncer.start()
    for writer in writers:
        writer.start()
    for person in people:
        person.join(300)
    people_done.set()
    github.join(120)
    refresher.join(120)

    def jobs_ended() -> bool:
        return all(job_state(server.base, seeded, job)["state"] in ("done", "failed") for job in refresher.jobs)

    wait_until(jobs_ended, 120, "the Refresh all jobs to end", interval=0.5)
    done.set()
    syncer.join(60)

    unexpected = [line for writer in writers for line in writer.unexpected]
    assert not unexpected, unexpected[:10]
    totals: Counter[int] = sum((writer.statuses for writer in writers), Counter())
    assert totals[200] and totals[201] and totals[204]
    assert totals[409] >= 1  # the racing adds of one URL: one wins, the others hear duplicate_link
    assert github.matched >= 1  # deliveries really wrote links the people were racing on
    for job in refresher.jobs:  # every press ran; the GitHub links (no credential) are skipped
        state = job_state(server.base, seeded, job)
        assert state["state"] == "done" and state["failed"] == 0 and state["done"] >= TASKS, state
    assert not sync_errors, sync_errors[:5]
    assert len(syncs) >= 3 and syncs == sorted(syncs)  # it really synced throughout, never backwards

    store = Store.open(store_path)  # one last sync after the writers stopped: the same state
    remote = SyncClient(server.base, seeded.token)
    sync_project(store, seeded.project_id, server.base, lambda s, n: remote.fetch_page(seeded.project_id, s, n))
    offline = store.snapshot(seeded.project_id)
    store.close()
    app = in_app(env)
    with app.app_context():
        assert offline == live_state(seeded.project_id)
        shared = db.session.execute(
            db.text("SELECT url, count(*) FROM task_links WHERE deleted_at IS NULL AND url = ANY(:urls) GROUP BY url"),
            {"urls": SHARED_URLS},
        ).all()
        db.session.remove()
        db.engine.dispose()
    assert all(count == 1 for _, count in shared)  # racing adds never made a duplicate

    postgres_log = (own_postgres.data / "log").read_text(errors="replace")
    assert "deadlock detected" not in postgres_log
    assert "Traceback" not in server.log()
    assert "Traceback" not in worker.log()
