"""SPEC §27 bounded delivery work, on a real gunicorn over the pass's database (SQLite: one write
lock for the whole database). A signed GitLab delivery whose object address has thousands of
path segments answers within 2 s, and another person's writes going on meanwhile are never held
for a second. Before: matching was cubic in the segments and ran under the project lock, so 2,000
segments held every writer for 10 s."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.ops.conftest import Seeded, api, migrated_env, seed
from tests.support.servers import Gunicorn
from tests.webhooks.conftest import gitlab_merge_request

LINK = "https://gitlab.com/acme/api/-/merge_requests/7"


@pytest.fixture
def served(pass_database: str, tmp_path: Path) -> Iterator[tuple[Gunicorn, Seeded]]:
    env = migrated_env(pass_database, tmp_path)
    seeded = seed(env, tasks=2, members=1)
    server = Gunicorn(env, workers=1, extra_args=("--threads", "4"))
    try:
        yield server, seeded
    finally:
        server.stop()


def _deliver(base: str, path: str, secret: str, address: str) -> requests.Response:
    payload = gitlab_merge_request(LINK, state="merged", updated_at="2026-01-05 10:00:00 UTC")
    payload["object_attributes"]["url"] = address
    headers = {
        "Content-Type": "application/json",
        "X-Gitlab-Event": "Merge Request Hook",
        "X-Gitlab-Event-UUID": str(uuid.uuid4()),
        "X-Gitlab-Token": secret,
    }
    return requests.post(base + path, data=json.dumps(payload).encode(), headers=headers, timeout=2)


def test_a_hostile_address_answers_fast_and_holds_no_writer(served: tuple[Gunicorn, Seeded]) -> None:
    server, seeded = served
    base = server.base
    owner = api(base, seeded.token)
    created = owner.post(
        f"{base}/api/v1/projects/{seeded.project_id}/webhooks/", json={"provider": "gitlab"}, timeout=30
    )
    assert created.status_code == 201, created.text
    path = "/" + created.json()["url"].split("://", 1)[1].split("/", 1)[1]
    secret = created.json()["secret"]
    added = owner.post(
        f"{base}/api/v1/projects/{seeded.project_id}/tasks/{seeded.task_ids[0]}/links/", json={"url": LINK}, timeout=30
    )
    assert added.status_code == 201, added.text

    # Another person edits a task of the same project all along; every write is timed.
    writer = api(base, seeded.members[0][1])
    slowest: list[float] = []
    statuses: list[int] = []
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            start = time.monotonic()
            response = writer.patch(
                f"{base}/api/v1/projects/{seeded.project_id}/tasks/{seeded.task_ids[1]}/",
                json={"name": f"Edited {n}"},
                timeout=30,
            )
            slowest.append(time.monotonic() - start)
            statuses.append(response.status_code)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        # Thousands of segments past the bound: refused, quickly.
        # (no `-` segment: the old parser tried every split of every suffix of the path)
        huge = "https://gitlab.com/" + "a/" * 5000 + "merge_requests/x"
        refused = _deliver(base, path, secret, huge)
        assert refused.status_code == 400 and refused.json()["code"] == "bad_payload", refused.text
        # Right at the bound (2,048 bytes, a thousand segments): matched in linear time.
        prefix = "https://gitlab.com/"
        tail = "/merge_requests/x"
        body = "a/" * ((2048 - len(prefix) - len(tail)) // 2)
        edge = prefix + body.rstrip("/") + tail
        assert len(edge.encode()) <= 2048 and edge.count("/") > 1000
        for _ in range(3):
            answer = _deliver(base, path, secret, edge)
            assert answer.status_code == 200 and answer.json() == {"matched": 0, "linked": 0}, answer.text
    finally:
        time.sleep(0.5)
        stop.set()
        thread.join(timeout=30)
    assert statuses and all(status == 200 for status in statuses), statuses
    assert max(slowest) < 1.0, f"a writer was held for {max(slowest):.2f} s"
