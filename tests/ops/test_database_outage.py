"""PostgreSQL stopped and started again under a running gunicorn: requests during the outage get
a clear 503 (the error page, or the JSON envelope with code `unavailable`), never a traceback,
and the app finds the database again by itself, with no restart."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.ops.conftest import Seeded, api, browser_login, fresh_database_on, migrated_env, seed
from tests.support.servers import Gunicorn, PostgresCluster

TRACEBACK = re.compile(r"Traceback|File \"/|sqlalchemy|psycopg", re.IGNORECASE)


@pytest.fixture
def served(own_postgres: PostgresCluster, tmp_path: Path) -> Iterator[tuple[Gunicorn, Seeded]]:
    env = migrated_env(fresh_database_on(own_postgres), tmp_path)
    seeded = seed(env, tasks=3)
    server = Gunicorn(env, workers=2)
    yield server, seeded
    server.stop()


class Traffic:
    """A steady stream of API reads from another thread, so the outage hits requests in flight."""

    def __init__(self, base: str, seeded: Seeded) -> None:
        self.client = api(base, seeded.token)
        self.url = f"{base}/api/v1/projects/{seeded.project_id}/tasks/"
        self.statuses: list[int] = []
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                response = self.client.get(self.url, timeout=15)
            except requests.RequestException as error:  # a dropped connection is a failure too
                self.failures.append(repr(error))
                continue
            self.statuses.append(response.status_code)
            if response.status_code not in (200, 503):
                self.failures.append(f"{response.status_code}: {response.text[:300]}")
            self.stop.wait(0.05)

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(20)


def test_outage_answers_503_then_recovers_without_a_restart(
    served: tuple[Gunicorn, Seeded], own_postgres: PostgresCluster
) -> None:
    server, seeded = served
    client = api(server.base, seeded.token)
    browser, _ = browser_login(server.base, seeded.owner_email)
    tasks_url = f"{server.base}/api/v1/projects/{seeded.project_id}/tasks/"
    schedule_url = f"{server.base}/projects/{seeded.project_id}/schedule"
    assert client.get(tasks_url, timeout=10).status_code == 200
    workers_before = server.worker_pids()
    traffic = Traffic(server.base, seeded)
    try:
        own_postgres.stop()
        down: list[requests.Response] = [
            client.get(tasks_url, timeout=15, headers={"X-Request-ID": f"outage-api-{n}"}) for n in range(4)
        ]
        down += [browser.get(schedule_url, timeout=15, headers={"X-Request-ID": f"outage-page-{n}"}) for n in range(4)]
        down.append(client.post(tasks_url, json={"name": "Written while down"}, timeout=15))
        down.append(browser.get(f"{server.base}/readyz", timeout=15))
        liveness = browser.get(f"{server.base}/healthz", timeout=15)
        own_postgres.start()
        # Back: the very first requests (pages and API, reads and a write) succeed on every worker.
        up = [client.get(tasks_url, timeout=15) for _ in range(6)]
        up += [browser.get(schedule_url, timeout=15) for _ in range(4)]
        written = client.post(tasks_url, json={"name": "Written after"}, timeout=15)
    finally:
        traffic.finish()

    for response in down[:4] + down[8:9]:
        assert response.status_code == 503
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "unavailable"
        assert response.headers["Retry-After"]
    for response in down[4:8]:
        assert response.status_code == 503
        assert response.headers["Content-Type"].startswith("text/html")
        assert "Temporarily unavailable" in response.text
        assert not TRACEBACK.search(response.text)
    assert down[9].status_code == 503 and down[9].json()["failed"][0] == "database"
    assert liveness.status_code == 200  # the process is alive: no orchestrator should restart it

    assert [r.status_code for r in up] == [200] * 10
    assert written.status_code == 201
    names = [task["name"] for task in client.get(tasks_url, timeout=10).json()]
    assert "Written after" in names and "Written while down" not in names
    assert server.worker_pids() == workers_before  # recovered in place, no worker restarted

    assert not traffic.failures, traffic.failures[:5]
    assert 503 in traffic.statuses and traffic.statuses[-1] == 200
    log = server.log()
    assert "Traceback" not in log
    for n in range(4):  # each refused request's lines, the app's and the access log's, name its id
        assert re.search(rf"\[outage-api-{n}\] database unavailable on GET", log)
        assert re.search(rf"\[outage-page-{n}\] database unavailable on GET", log)
        assert re.search(rf'"GET /api/v1/projects/\S+ HTTP/1.1" 503 .* request_id=outage-api-{n}$', log, re.MULTILINE)
