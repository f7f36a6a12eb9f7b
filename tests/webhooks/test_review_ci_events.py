"""Review and CI events (SPEC §15): GitHub `check_suite`, `check_run`, `status` and
`pull_request_review`, and GitLab `Pipeline Hook`, queue refreshes of exactly the matching links
of the receiver's project — by the pull request addresses the event names, else by head SHA —
and answer 200 {"queued": n}; without a queue 202 {"ignored": "no_queue"}; an unreachable Redis
503, never a 500. The queued refreshes run through `flask ppm worker --burst` on the test Redis.

GitHub payloads: GitHub's published examples (data/github, @octokit/webhooks-examples, see
data/NOTICE). GitLab: the documented "Pipeline events" payload (doc/user/project/integrations/
webhook_events.md), built here in that shape.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
import responses
from flask import Flask

from ppm.extensions import db
from ppm.integrations.models import Credential
from ppm.links.models import TaskLink
from tests.jobs.conftest import app_config, needs_redis, redis_conn, run_worker  # noqa: F401 - fixtures
from tests.links.conftest import give_credential
from tests.support.provider_examples import github
from tests.webhooks.conftest import EXAMPLE_PR, Hooks, github_example

API = "https://api.github.com/repos/Codertocat/Hello-World"
CHECKS_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"  # the check and review examples' head
REQUESTED_SHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"  # check_suite.requested (no pull requests)
STATUS_SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"  # the status example's commit
MR = "https://gitlab.com/gitlab-org/gitlab-test/-/merge_requests/1"
MR_SHA = "bcbb5ec396a2c0f828686f14fac9b80b780504f2"


def pipeline(merge_request_url: str | None = MR, sha: str = MR_SHA, status: str = "success") -> dict[str, Any]:
    """A Pipeline Hook payload in the documented shape (abridged)."""
    return {
        "object_kind": "pipeline",
        "object_attributes": {
            "id": 31,
            "iid": 3,
            "ref": "main",
            "tag": False,
            "sha": sha,
            "before_sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
            "source": "merge_request_event",
            "status": status,
            "detailed_status": "passed",
            "created_at": "2016-08-12 15:23:28 UTC",
            "finished_at": "2016-08-12 15:26:29 UTC",
            "duration": 63,
            "url": "http://example.com/gitlab-org/gitlab-test/-/pipelines/31",
        },
        "merge_request": None
        if merge_request_url is None
        else {
            "id": 1,
            "iid": 1,
            "title": "Test",
            "source_branch": "test",
            "target_branch": "main",
            "state": "opened",
            "merge_status": "can_be_merged",
            "detailed_merge_status": "mergeable",
            "url": merge_request_url,
        },
        "user": {"id": 1, "name": "Administrator", "username": "root"},
        "project": {
            "id": 1,
            "name": "Gitlab Test",
            "web_url": "http://example.com/gitlab-org/gitlab-test",
            "path_with_namespace": "gitlab-org/gitlab-test",
        },
        "builds": [],
    }


def _with_sha(link: dict[str, Any], sha: str) -> None:
    row = db.session.get(TaskLink, link["id"])
    assert row is not None
    row.head_sha = sha
    db.session.commit()


def _background(hooks: Hooks, provider_id: str) -> None:
    credential: Credential = give_credential(hooks.member.user, provider_id)
    credential.background_refresh = True
    db.session.commit()


# --- without a queue ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "event", "example"),
    [
        ("github", "check_suite", "check_suite.completed"),
        ("github", "check_run", "check_run.completed"),
        ("github", "status", "status"),
        ("github", "pull_request_review", "pull_request_review.submitted"),
        ("gitlab", "Pipeline Hook", ""),
    ],
)
def test_without_redis_every_review_and_ci_event_is_ignored_no_queue(
    hooks: Hooks, kind: str, event: str, example: str
) -> None:
    hook = hooks.create(kind)
    hooks.link(EXAMPLE_PR if kind == "github" else MR)
    if kind == "github":
        response = hooks.sender.github(hook, event, github_example(example))
    else:
        response = hooks.sender.gitlab(hook, event, pipeline())
    assert response.status_code == 202 and response.get_json() == {"ignored": "no_queue"}
    assert hooks.receiver(hook)["last_delivery_result"] == "no_queue"


# --- with the test Redis ------------------------------------------------------------------


@needs_redis[0]
@needs_redis[1]
@pytest.mark.parametrize(
    ("event", "example"),
    [
        ("check_suite", "check_suite.completed"),
        ("check_run", "check_run.completed"),
        ("pull_request_review", "pull_request_review.submitted"),
    ],
)
def test_an_event_naming_the_pull_request_queues_exactly_its_links(
    hooks: Hooks, app: Flask, provider: responses.RequestsMock, allow_egress: None, event: str, example: str
) -> None:
    _background(hooks, "github")
    hook = hooks.create()
    mine = hooks.link(EXAMPLE_PR)
    other_number = hooks.link("https://github.com/Codertocat/Hello-World/pull/20")
    other_repo = hooks.link("https://github.com/Codertocat/Other/pull/2")
    elsewhere = hooks.link(EXAMPLE_PR, task_id=hooks.other_task_id, project_id=hooks.other_project_id)
    response = hooks.sender.github(hook, event, github_example(example))
    assert response.status_code == 200 and response.get_json() == {"queued": 1}
    assert hooks.receiver(hook)["last_delivery_result"] == "ok"

    # The worker refreshes it with the member's credential (background refresh allowed).
    provider.get(f"{API}/pulls/2", json=github("pull-request"))
    provider.get(f"{API}/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e/check-runs", json={"check_runs": []})
    provider.get(f"{API}/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e/status", json={"state": "failure"})
    provider.get(f"{API}/pulls/2/reviews", json=[])
    run_worker(app)
    refreshed = hooks.get_link(mine)
    assert (refreshed["status"], refreshed["checks"], refreshed["review"]) == ("open", "failing", "review_required")
    assert provider.calls[0].request.url == f"{API}/pulls/2"
    for untouched in (other_number, other_repo):
        assert hooks.get_link(untouched)["fetched_at"] is None
    assert hooks.get_link(elsewhere, project_id=hooks.other_project_id)["fetched_at"] is None


@needs_redis[0]
@needs_redis[1]
@pytest.mark.parametrize(
    ("event", "example", "sha"),
    [("status", "status", STATUS_SHA), ("check_suite", "check_suite.requested", REQUESTED_SHA)],
)
def test_an_event_naming_only_a_commit_matches_by_head_sha(
    hooks: Hooks,
    redis_conn: Any,  # noqa: F811 - the fixture
    event: str,
    example: str,
    sha: str,
) -> None:
    hook = hooks.create()
    at_head = hooks.link("https://github.com/Codertocat/Hello-World/pull/7")
    _with_sha(at_head, sha)
    _with_sha(hooks.link("https://github.com/Codertocat/Hello-World/pull/8"), "0" * 40)
    elsewhere = hooks.link(EXAMPLE_PR, task_id=hooks.other_task_id, project_id=hooks.other_project_id)
    _with_sha(elsewhere, sha)  # another project's link: never this receiver's business
    response = hooks.sender.github(hook, event, github_example(example))
    assert response.status_code == 200 and response.get_json() == {"queued": 1}
    assert len(redis_conn.keys("rq:job:*")) >= 1


@needs_redis[0]
@needs_redis[1]
def test_a_check_run_of_a_fork_without_pull_requests_falls_back_to_the_sha(hooks: Hooks, redis_conn: Any) -> None:  # noqa: F811 - the fixture
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    _with_sha(link, "d6fde92930d4715a2b49857d24b940956b26d2d3")  # check_run.rerequested's head
    response = hooks.sender.github(hook, "check_run", github_example("check_run.rerequested"))
    assert response.get_json() == {"queued": 1}


@needs_redis[0]
@needs_redis[1]
@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_an_event_matching_no_link_queues_nothing(hooks: Hooks, redis_conn: Any, kind: str) -> None:  # noqa: F811 - the fixture
    hook = hooks.create(kind)
    hooks.link("https://github.com/Codertocat/Hello-World/pull/99")
    hooks.link("https://gitlab.com/gitlab-org/gitlab-test/-/merge_requests/99")
    if kind == "github":
        response = hooks.sender.github(hook, "check_suite", github_example("check_suite.completed"))
    else:
        response = hooks.sender.gitlab(hook, "Pipeline Hook", pipeline())
    assert response.status_code == 200 and response.get_json() == {"queued": 0}
    assert redis_conn.keys("rq:job:*") == []


@needs_redis[0]
@needs_redis[1]
def test_a_gitlab_pipeline_queues_its_merge_request_then_its_sha(
    hooks: Hooks, app: Flask, provider: responses.RequestsMock, allow_egress: None
) -> None:
    _background(hooks, "gitlab")
    hook = hooks.create("gitlab")
    link = hooks.link(MR)
    response = hooks.sender.gitlab(hook, "Pipeline Hook", pipeline())
    assert response.status_code == 200 and response.get_json() == {"queued": 1}
    api = "https://gitlab.com/api/v4/projects/gitlab-org%2Fgitlab-test/merge_requests/1"
    provider.get(api, json={"state": "opened", "title": "Test", "sha": MR_SHA, "head_pipeline": {"status": "running"}})
    provider.get(f"{api}/approvals", json={"approved": True, "approvals_left": 0})
    run_worker(app)
    assert (hooks.get_link(link)["checks"], hooks.get_link(link)["review"]) == ("pending", "approved")
    # A pipeline for a branch (no merge request) finds the link by the head it now knows.
    again = hooks.sender.gitlab(hook, "Pipeline Hook", pipeline(merge_request_url=None))
    assert again.get_json() == {"queued": 1}


@needs_redis[0]
@needs_redis[1]
def test_a_redelivery_is_a_duplicate(hooks: Hooks, redis_conn: Any) -> None:  # noqa: F811 - the fixture
    hook = hooks.create()
    hooks.link(EXAMPLE_PR)
    payload = github_example("check_suite.completed")
    assert hooks.sender.github(hook, "check_suite", payload, delivery="same-id").get_json() == {"queued": 1}
    assert hooks.sender.github(hook, "check_suite", payload, delivery="same-id").get_json() == {"duplicate": True}


@needs_redis[0]
@needs_redis[1]
def test_an_unreachable_redis_is_a_503_and_the_delivery_can_come_again(hooks: Hooks, app: Flask) -> None:
    hook = hooks.create()
    hooks.link(EXAMPLE_PR)
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{dead}/0"
    payload = github_example("check_suite.completed")
    response = hooks.sender.github(hook, "check_suite", payload, delivery="d-1")
    assert response.status_code == 503 and response.get_json()["code"] == "queue_unavailable"
    assert hooks.receiver(hook)["last_delivery_result"] == "queue_unavailable"


@needs_redis[0]
@needs_redis[1]
def test_twenty_events_about_one_pull_request_queue_one_refresh(
    hooks: Hooks,
    app: Flask,
    redis_conn: Any,  # noqa: F811 - the fixture
    provider: responses.RequestsMock,
    allow_egress: None,
) -> None:
    """SPEC §27: while a link's review/CI refresh is queued, later events add nothing (20 events
    were 20 refreshes of 4 calls each); once the worker has started it, the next event queues
    another."""
    from rq import Queue

    _background(hooks, "github")
    hook = hooks.create()
    hooks.link(EXAMPLE_PR)
    for n in range(20):
        example = ("check_run.completed", "check_suite.completed", "pull_request_review.submitted")[n % 3]
        event = example.split(".")[0]
        response = hooks.sender.github(hook, event, github_example(example))
        assert response.status_code == 200, response.get_json()
    assert Queue("ppm", connection=redis_conn).count == 1
    provider.get(f"{API}/pulls/2", json=github("pull-request"))
    provider.get(f"{API}/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e/check-runs", json={"check_runs": []})
    provider.get(f"{API}/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e/status", json={"state": "success"})
    provider.get(f"{API}/pulls/2/reviews", json=[])
    run_worker(app)
    assert len(provider.calls) <= 4
    assert hooks.sender.github(hook, "check_run", github_example("check_run.completed")).status_code == 200
    assert Queue("ppm", connection=redis_conn).count == 1
