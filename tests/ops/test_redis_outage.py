"""Redis stopped under a running gunicorn: pages, logins and a single refresh keep working; the
rate limits fall back to per-process memory (still enforced) and the log says so once.

TODO(after the merge of #11 and #12): with Redis stopped, a signed webhook delivery is still
applied (200), and with REDIS_URL set, queued background refreshes stop and resume (a
`flask ppm worker --burst` finishes them) once Redis is started again.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.conftest import Seeded, api, browser_login, migrated_env, seed
from tests.support.servers import GitLabStandin, Gunicorn, RedisServer

FALLBACK_LINE = "falling back to in-memory storage"
LOGIN_LIMIT = 20  # per client address per minute (ppm.auth.views)


@pytest.fixture
def served(
    pass_database: str, own_redis: RedisServer, standin: GitLabStandin, tmp_path: Path
) -> Iterator[tuple[Gunicorn, Seeded]]:
    env = migrated_env(pass_database, tmp_path, RATELIMIT_STORAGE_URI=own_redis.url, RATELIMIT_ENABLED="true")
    seeded = seed(env, tasks=2, gitlab_base=standin.base_url)
    # One worker: the in-memory fallback is per process, so one process makes it observable.
    server = Gunicorn(env, workers=1)
    yield server, seeded
    server.stop()


def _refresh_by_api(server: Gunicorn, seeded: Seeded, task_id: str) -> dict[str, object]:
    link_id = seeded.link_ids[task_id][0]
    url = f"{server.base}/api/v1/projects/{seeded.project_id}/tasks/{task_id}/links/{link_id}/refresh/"
    response = api(server.base, seeded.token).post(url, timeout=15)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_pages_logins_and_refresh_keep_working_without_redis(
    served: tuple[Gunicorn, Seeded], own_redis: RedisServer
) -> None:
    server, seeded = served
    first, second = seeded.task_ids
    assert _refresh_by_api(server, seeded, first)["status"] == "merged"
    browser_login(server.base, seeded.owner_email)
    assert FALLBACK_LINE not in server.log()

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

    assert browser.get(f"{server.base}/healthz", timeout=15).status_code == 200
    ready = browser.get(f"{server.base}/readyz", timeout=15)
    assert ready.status_code == 503 and ready.json()["failed"] == ["rate_limit_storage"]

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
