"""SPEC §27 "never backwards" on the worker's path (Refresh all; the sweep writes through the same
step): GitHub is asked while the link is open; before its answer lands, the merge's webhook
arrives and is applied; the older answer then changes nothing but `fetched_at`."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from typing import Any

import responses
from flask import Flask

from tests.jobs.conftest import add_link, give_credential, job, needs_redis, refresh_all, run_worker
from tests.links.conftest import World
from tests.webhooks.conftest import github_example

pytestmark = needs_redis
PULL = "https://github.com/acme/api/pull/7"
API = "https://api.github.com/repos/acme/api/pulls/7"


def _merged_delivery(app: Flask, world: World, path: str, secret: str) -> int:
    payload = github_example("pull_request.closed")
    payload["pull_request"].update(
        {"html_url": PULL, "merged": True, "title": "Merged", "updated_at": "2026-03-02T10:00:00Z"}
    )
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "merge-1",
        "X-Hub-Signature-256": signature,
    }
    statuses: list[int] = []
    # Its own thread: another request arriving while the worker waits for GitHub.
    thread = threading.Thread(
        target=lambda: statuses.append(app.test_client().post(path, data=body, headers=headers).status_code)
    )
    thread.start()
    thread.join(timeout=60)
    return statuses[0] if statuses else 0


def test_a_refresh_all_answer_older_than_a_webhook_changes_only_fetched_at(
    app: Flask, world: World, provider: responses.RequestsMock
) -> None:
    give_credential(world.member.user, "github", token="ghp_member")
    link = add_link(world.member, world, PULL)
    created = world.owner.api("POST", f"/api/v1/projects/{world.project_id}/webhooks/", json={"provider": "github"})
    assert created.status_code == 201
    hook = created.get_json()
    path = "/" + hook["url"].split("://", 1)[1].split("/", 1)[1]
    delivered: list[int] = []

    def github_answers(request: Any) -> tuple[int, dict[str, str], str]:
        delivered.append(_merged_delivery(app, world, path, hook["secret"]))
        older = {"state": "open", "merged": False, "title": "Still open", "updated_at": "2026-03-02T09:59:00Z"}
        return 200, {"Content-Type": "application/json"}, json.dumps(older)

    provider.add_callback(responses.GET, API, callback=github_answers)
    started = refresh_all(world.member, world)
    assert started.status_code == 202
    run_worker(app)
    assert delivered == [200]
    assert job(world.member, started.get_json()["job_id"]).get_json()["state"] == "done"
    after = world.member.api("GET", world.links_url() + f"{link['id']}/").get_json()
    assert after["status"] == "merged" and after["title"] == "Merged" and after["fetched_at"]
