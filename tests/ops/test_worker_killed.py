"""A gunicorn worker SIGKILLed in the middle of a request: the master replaces it, the next
requests are served, and nothing the dead request had started is visible (no half-written row,
no lock left behind, no sync number spent on nothing)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.ops.conftest import Seeded, api, migrated_env, seed
from tests.support.servers import GitLabStandin, Gunicorn, wait_until


@pytest.fixture
def served(pass_database: str, standin: GitLabStandin, tmp_path: Path) -> Iterator[tuple[Gunicorn, Seeded]]:
    env = migrated_env(pass_database, tmp_path)
    seeded = seed(env, tasks=2, gitlab_base=standin.slow_base_url)  # its status calls never answer
    server = Gunicorn(env, workers=1)
    yield server, seeded
    server.stop()


def test_a_killed_worker_is_replaced_and_leaves_nothing_half_written(
    served: tuple[Gunicorn, Seeded], standin: GitLabStandin
) -> None:
    server, seeded = served
    client = api(server.base, seeded.token)
    task_id = seeded.task_ids[0]
    link_id = seeded.link_ids[task_id][0]
    link_url = f"{server.base}/api/v1/projects/{seeded.project_id}/tasks/{task_id}/links/{link_id}/"
    sync_url = f"{server.base}/api/v1/projects/{seeded.project_id}/sync/"
    before = client.get(link_url, timeout=10).json()
    cursor = client.get(sync_url, params={"limit": 5000}, timeout=10).json()["cursor"]
    (victim,) = server.worker_pids()

    outcome: list[object] = []

    def refresh() -> None:
        try:
            outcome.append(client.post(link_url + "refresh/", timeout=30))
        except requests.RequestException as error:
            outcome.append(error)

    caller = threading.Thread(target=refresh)
    caller.start()
    assert standin.slow_requests.acquire(timeout=20), "the refresh never reached its outbound call"
    os.kill(victim, signal.SIGKILL)
    caller.join(30)

    assert len(outcome) == 1 and isinstance(outcome[0], requests.ConnectionError)  # no answer at all
    wait_until(lambda: server.worker_pids() - {victim}, 30, "the master to start a new worker")
    replacement = server.worker_pids()
    assert replacement and victim not in replacement

    after = client.get(link_url, timeout=10).json()
    assert after == before  # status, error, fetched_at and updated_at exactly as they were
    delta = client.get(sync_url, params={"since": cursor}, timeout=10).json()
    assert delta["task_links"]["updated"] == [] and delta["tasks"]["updated"] == []
    assert delta["cursor"] == cursor

    # Whatever the dead request held (a row lock, SQLite's write lock) died with it.
    edited = client.patch(link_url, json={"custom_title": "Still writable"}, timeout=15)
    assert edited.status_code == 200 and edited.json()["display_title"] == "Still writable"
    assert "SIGKILL" in server.log() or "killed" in server.log().lower()
