"""20 people writing to one project at once on PostgreSQL (task edits on the same few tasks,
link adds racing on the same URLs, link edits and removals, new subtasks under one summary):
no deadlock, no 5xx, and an offline client syncing all along ends with exactly the server's
state.

TODO(after the merge of #11 and #12): add webhook deliveries (signed GitHub `pull_request`
payloads to a receiver of this project, POST /hooks/github/{w}) and a bulk refresh
(POST /api/v1/projects/{p}/links/refresh/ plus `flask ppm worker --burst`) to the writers' mix.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from ppm.extensions import db
from ppm_offline.remote import SyncClient
from ppm_offline.store import Store
from ppm_offline.sync import sync_project
from tests.ops.conftest import Seeded, api, fresh_database_on, in_app, migrated_env, seed
from tests.support.servers import Gunicorn, PostgresCluster
from tests.sync.helpers import live_state

WRITERS = 20
ROUNDS = 10
SHARED_URLS = [f"https://github.com/acme/api/pull/{n}" for n in range(3)]
ALLOWED = {200, 201, 204, 409}


@pytest.fixture
def served(own_postgres: PostgresCluster, tmp_path: Path) -> Iterator[tuple[Gunicorn, Seeded, dict[str, str]]]:
    env = migrated_env(fresh_database_on(own_postgres), tmp_path)
    seeded = seed(env, tasks=5, members=WRITERS)
    # As many request threads as writers, so their transactions really overlap in the database.
    server = Gunicorn(env, workers=4, extra_args=("--threads", "5"))
    yield server, seeded, env
    server.stop()


class Writer(threading.Thread):
    def __init__(self, n: int, base: str, seeded: Seeded, start_line: threading.Barrier) -> None:
        super().__init__(daemon=True)
        self.n, self.seeded, self.start_line = n, seeded, start_line
        self.client = api(base, seeded.members[n][1])
        self.project = f"{base}/api/v1/projects/{seeded.project_id}"
        self.random = random.Random(n)
        self.statuses: Counter[int] = Counter()
        self.unexpected: list[str] = []
        self.my_links: list[tuple[str, str]] = []

    def call(self, method: str, url: str, **kwargs: Any) -> requests.Response | None:
        try:
            response = self.client.request(method, self.project + url, timeout=60, **kwargs)
        except requests.RequestException as error:
            self.unexpected.append(f"{method} {url}: {error!r}")
            return None
        self.statuses[response.status_code] += 1
        if response.status_code not in ALLOWED:
            self.unexpected.append(f"{method} {url}: {response.status_code} {response.text[:300]}")
        return response

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


def test_twenty_writers_no_deadlock_no_5xx_and_the_offline_copy_converges(
    served: tuple[Gunicorn, Seeded, dict[str, str]], own_postgres: PostgresCluster, tmp_path: Path
) -> None:
    server, seeded, env = served
    start_line = threading.Barrier(WRITERS)
    writers = [Writer(n, server.base, seeded, start_line) for n in range(WRITERS)]
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
    for writer in writers:
        writer.join(300)
    done.set()
    syncer.join(60)

    unexpected = [line for writer in writers for line in writer.unexpected]
    assert not unexpected, unexpected[:10]
    totals: Counter[int] = sum((writer.statuses for writer in writers), Counter())
    assert totals[200] and totals[201] and totals[204]
    assert totals[409] >= 1  # the racing adds of one URL: one wins, the others hear duplicate_link
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
