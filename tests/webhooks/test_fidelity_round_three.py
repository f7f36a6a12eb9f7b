"""Deliveries as GitHub and GitLab send them when checked again (SPEC §26): the head commit of a
pull or merge request kept from its deliveries so commit-only CI events find their links (a
GitLab branch pipeline also by its branch), GitLab approval actions queue a review refresh,
GitLab's delivery id (`Idempotency-Key` first; one UUID across a recursive chain of different
events), and System Hook merge request events.

GitHub payloads: GitHub's published examples (data/github, @octokit/webhooks-examples). GitLab:
the documented "Merge request events", "Pipeline events" and system hook payloads (doc/user/
project/integrations/webhook_events.md, doc/administration/system_hooks.md), in that shape.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis
import responses
from flask import Flask

from ppm.extensions import db
from ppm.links.models import TaskLink
from tests.jobs.conftest import app_config, needs_redis, redis_conn, run_worker  # noqa: F401 - fixtures
from tests.links.conftest import give_credential
from tests.webhooks.conftest import EXAMPLE_PR, Hooks, github_example, gitlab_issue, gitlab_merge_request
from tests.webhooks.test_review_ci_events import pipeline

STATUS_SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"  # the status example's commit
REQUESTED_SHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"  # check_suite.requested: no pull requests
MR = "https://gitlab.com/awesome_space/awesome_project/-/merge_requests/1"
PROJECT = "https://gitlab.com/awesome_space/awesome_project"
LAST_SHA = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
# The documented Merge Request Hook's `last_commit`.
LAST_COMMIT: dict[str, Any] = {
    "id": LAST_SHA,
    "message": "fixed readme",
    "title": "Update file README.md",
    "timestamp": "2012-01-03T23:36:29+02:00",
    "url": "http://example.com/awesome_space/awesome_project/commits/da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    "author": {"name": "GitLab dev user", "email": "gitlabdev@dv6700.(none)"},
}


def _head(link: dict[str, Any]) -> tuple[str | None, str | None]:
    db.session.expire_all()
    row = db.session.get(TaskLink, link["id"])
    assert row is not None
    return row.head_sha, row.source_branch


def _pull_request(action: str, sha: str, updated_at: str = "2019-05-15T15:20:33Z") -> dict[str, Any]:
    payload = github_example("pull_request.opened")
    payload["action"] = action
    payload["pull_request"]["head"]["sha"] = sha
    payload["pull_request"]["updated_at"] = updated_at
    return payload


def _merge_request(sha: str = LAST_SHA, **changes: Any) -> dict[str, Any]:
    payload = gitlab_merge_request(MR, **changes)
    payload["object_attributes"]["last_commit"] = {**LAST_COMMIT, "id": sha}
    return payload


def _branch_pipeline(sha: str, ref: str = "ms-viewport", web_url: str = PROJECT, tag: bool = False) -> dict[str, Any]:
    payload = pipeline(merge_request_url=None, sha=sha)
    payload["object_attributes"].update(ref=ref, tag=tag, source="push")
    payload["project"].update(web_url=web_url, path_with_namespace=web_url.split("gitlab.com/")[-1])
    return payload


# --- head commit from deliveries --------------------------------------------------------------


@pytest.mark.parametrize("action", ["opened", "synchronize", "edited"])
def test_a_pull_request_delivery_keeps_its_head_commit(hooks: Hooks, action: str) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    assert hooks.sender.github(hook, "pull_request", _pull_request("opened", "a" * 40)).get_json() == {
        "matched": 1,
        "linked": 0,
    }
    # A push: nothing a person sees changes, but the head commit moves.
    response = hooks.sender.github(hook, "pull_request", _pull_request(action, STATUS_SHA, "2019-05-15T15:25:00Z"))
    assert response.status_code == 200
    assert _head(link)[0] == STATUS_SHA


def test_an_older_pull_request_delivery_does_not_move_the_head_back(hooks: Hooks) -> None:
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    hooks.sender.github(hook, "pull_request", _pull_request("synchronize", STATUS_SHA, "2019-05-15T15:25:00Z"))
    hooks.sender.github(hook, "pull_request", _pull_request("synchronize", "b" * 40, "2019-05-15T15:20:33Z"))
    assert _head(link)[0] == STATUS_SHA


def test_a_merge_request_delivery_keeps_last_commit_and_source_branch(hooks: Hooks) -> None:
    hook = hooks.create("gitlab")
    link = hooks.link(MR)
    assert hooks.sender.gitlab(hook, "Merge Request Hook", _merge_request()).get_json() == {"matched": 1, "linked": 0}
    assert _head(link) == (LAST_SHA, "ms-viewport")


@needs_redis[0]
@needs_redis[1]
@pytest.mark.parametrize(
    ("event", "example", "sha"),
    [("status", "status", STATUS_SHA), ("check_suite", "check_suite.requested", REQUESTED_SHA)],
)
def test_after_a_push_a_commit_only_event_finds_the_pull_request(
    hooks: Hooks,
    redis_conn: redis.Redis,  # noqa: F811 - the fixture
    event: str,
    example: str,
    sha: str,
) -> None:
    hook = hooks.create()
    hooks.link(EXAMPLE_PR)
    hooks.sender.github(hook, "pull_request", _pull_request("synchronize", sha))
    response = hooks.sender.github(hook, event, github_example(example))
    assert response.status_code == 200 and response.get_json() == {"queued": 1}


@needs_redis[0]
@needs_redis[1]
def test_a_branch_pipeline_finds_the_merge_request_by_its_last_commit(
    hooks: Hooks,
    redis_conn: redis.Redis,  # noqa: F811 - the fixture
) -> None:
    hook = hooks.create("gitlab")
    hooks.link(MR)
    hooks.sender.gitlab(hook, "Merge Request Hook", _merge_request())
    response = hooks.sender.gitlab(hook, "Pipeline Hook", _branch_pipeline(LAST_SHA, ref="elsewhere"))
    assert response.get_json() == {"queued": 1}


@needs_redis[0]
@needs_redis[1]
def test_a_branch_pipeline_of_an_unknown_commit_finds_the_merge_request_by_its_branch(
    hooks: Hooks,
    redis_conn: redis.Redis,  # noqa: F811 - the fixture
) -> None:
    hook = hooks.create("gitlab")
    hooks.link(MR)
    other_repo = "https://gitlab.com/awesome_space/other_project/-/merge_requests/1"
    hooks.link(other_repo)
    hooks.sender.gitlab(hook, "Merge Request Hook", _merge_request())
    other = gitlab_merge_request(other_repo)  # the same branch name in another repository
    hooks.sender.gitlab(hook, "Merge Request Hook", other)
    new_commit = "c" * 40  # a push the merge request's own delivery has not told ppm about yet
    send = hooks.sender.gitlab
    assert send(hook, "Pipeline Hook", _branch_pipeline(new_commit)).get_json() == {"queued": 1}
    assert send(hook, "Pipeline Hook", _branch_pipeline(new_commit, ref="main")).get_json() == {"queued": 0}
    assert send(hook, "Pipeline Hook", _branch_pipeline(new_commit, tag=True)).get_json() == {"queued": 0}


@needs_redis[0]
@needs_redis[1]
def test_a_refresh_remembers_the_source_branch_for_branch_pipelines(
    hooks: Hooks, app: Flask, provider: responses.RequestsMock, allow_egress: None
) -> None:
    credential = give_credential(hooks.member.user, "gitlab")
    credential.background_refresh = True
    db.session.commit()
    hook = hooks.create("gitlab")
    link = hooks.link(MR)
    api = "https://gitlab.com/api/v4/projects/awesome_space%2Fawesome_project/merge_requests/1"
    merge_request = {
        "state": "opened",
        "title": "MS-Viewport",
        "sha": LAST_SHA,
        "source_branch": "ms-viewport",
    }
    provider.get(api, json=merge_request)
    provider.get(f"{api}/approvals", json={"approved": False, "approvals_left": 1})
    assert (
        hooks.member.api(
            "POST", f"/api/v1/projects/{hooks.project_id}/tasks/{link['task_id']}/links/{link['id']}/refresh/"
        ).status_code
        == 200
    )
    assert _head(link) == (LAST_SHA, "ms-viewport")
    assert hooks.sender.gitlab(hook, "Pipeline Hook", _branch_pipeline("d" * 40)).get_json() == {"queued": 1}


# --- GitLab approvals --------------------------------------------------------------------------


@needs_redis[0]
@needs_redis[1]
@pytest.mark.parametrize("action", ["approved", "approval", "unapproved", "unapproval"])
def test_an_approval_action_queues_a_review_refresh(
    hooks: Hooks, app: Flask, provider: responses.RequestsMock, allow_egress: None, action: str
) -> None:
    credential = give_credential(hooks.member.user, "gitlab")
    credential.background_refresh = True
    db.session.commit()
    hook = hooks.create("gitlab")
    link = hooks.link(MR)
    elsewhere = hooks.link("https://gitlab.com/awesome_space/awesome_project/-/merge_requests/2")
    response = hooks.sender.gitlab(hook, "Merge Request Hook", gitlab_merge_request(MR, action=action))
    assert response.status_code == 200 and response.get_json() == {"queued": 1}
    api = "https://gitlab.com/api/v4/projects/awesome_space%2Fawesome_project/merge_requests/1"
    provider.get(api, json={"state": "opened", "title": "MS-Viewport", "detailed_merge_status": "mergeable"})
    approved = action in ("approved", "approval")
    provider.get(f"{api}/approvals", json={"approved": approved, "approvals_left": 0 if approved else 1})
    run_worker(app)
    assert hooks.get_link(link)["review"] == ("approved" if approved else "review_required")
    assert hooks.get_link(elsewhere)["fetched_at"] is None


def test_an_approval_without_a_queue_is_no_queue(hooks: Hooks) -> None:
    hook = hooks.create("gitlab")
    hooks.link(MR)
    response = hooks.sender.gitlab(hook, "Merge Request Hook", gitlab_merge_request(MR, action="approved"))
    assert response.status_code == 202 and response.get_json() == {"ignored": "no_queue"}


# --- GitLab delivery ids -------------------------------------------------------------------------


def test_idempotency_key_wins_over_the_event_uuid(hooks: Hooks) -> None:
    # GitLab's resend keeps the Idempotency-Key; each attempt gets a new event UUID.
    hook = hooks.create("gitlab")
    link = hooks.link(MR)
    key = {"Idempotency-Key": "f5e5f430-f57b-4e6e-9fac-d9128cd7232f"}
    send = hooks.sender.gitlab
    first = send(hook, "Merge Request Hook", gitlab_merge_request(MR), uuid="uuid-attempt-1", headers=key)
    assert first.get_json() == {"matched": 1, "linked": 0}
    later = gitlab_merge_request(MR, state="closed", updated_at="2030-01-01 00:00:00 UTC")
    again = send(hook, "Merge Request Hook", later, uuid="uuid-attempt-2", headers=key)
    assert again.get_json() == {"duplicate": True}
    assert hooks.get_link(link)["status"] == "open"


def test_one_uuid_across_different_events_is_not_a_duplicate(hooks: Hooks) -> None:
    # A recursive webhook chain: GitLab sends the events it causes under the same UUID.
    hook = hooks.create("gitlab")
    link = hooks.link(MR)
    issue = hooks.link("https://gitlab.com/gitlabhq/gitlab-test/-/issues/23")
    send = hooks.sender.gitlab
    uuid = "13792a34-cac6-4fda-95a8-c58e00a3954e"
    assert send(hook, "Merge Request Hook", gitlab_merge_request(MR), uuid=uuid).get_json() == {
        "matched": 1,
        "linked": 0,
    }
    assert send(hook, "Issue Hook", gitlab_issue(state="closed"), uuid=uuid).get_json() == {"matched": 1}
    assert send(hook, "Merge Request Hook", gitlab_merge_request(MR), uuid=uuid).get_json() == {"duplicate": True}
    assert (hooks.get_link(link)["status"], hooks.get_link(issue)["status"]) == ("open", "closed")


# --- System Hook -------------------------------------------------------------------------------


def test_a_system_hook_merge_request_event_is_a_merge_request_hook(hooks: Hooks) -> None:
    hook = hooks.create("gitlab")
    link = hooks.link(MR)
    response = hooks.sender.gitlab(hook, "System Hook", _merge_request(state="merged", action="merge"))
    assert response.status_code == 200 and response.get_json() == {"matched": 1, "linked": 0}
    assert hooks.get_link(link)["status"] == "merged"
    assert _head(link)[0] == LAST_SHA


def test_other_system_hook_events_are_ignored(hooks: Hooks) -> None:
    hook = hooks.create("gitlab")
    link = hooks.link(MR)
    project_create = {  # doc/administration/system_hooks.md, "Project created"
        "created_at": "2012-07-21T07:30:54Z",
        "updated_at": "2012-07-21T07:38:22Z",
        "event_name": "project_create",
        "name": "StoreCloud",
        "owner_email": "johnsmith@example.com",
        "owner_name": "John Smith",
        "owners": [{"name": "John", "email": "user1@example.com"}],
        "path": "storecloud",
        "path_with_namespace": "jsmith/storecloud",
        "project_id": 74,
        "project_namespace_id": 23,
        "project_visibility": "private",
    }
    response = hooks.sender.gitlab(hook, "System Hook", project_create)
    assert response.status_code == 202 and response.get_json() == {"ignored": "System Hook"}
    assert hooks.get_link(link)["status"] == "unknown"
