"""A refresh remembers the provider's `updated_at` too, so a webhook delivery that is older
than what a refresh already showed changes nothing, and a newer one does (SPEC §13)."""

from __future__ import annotations

from typing import Any

import responses

from ppm.extensions import db
from ppm.links.models import TaskLink
from tests.links.conftest import give_credential
from tests.webhooks.conftest import EXAMPLE_PR, Hooks, github_example, gitlab_merge_request

API_PR = "https://api.github.com/repos/Codertocat/Hello-World/pulls/2"
MR = "https://gitlab.com/awesome_space/awesome_project/-/merge_requests/1"
API_MR = "https://gitlab.com/api/v4/projects/awesome_space%2Fawesome_project/merge_requests/1"


def refresh(hooks: Hooks, link: dict[str, Any]) -> dict[str, Any]:
    url = f"/api/v1/projects/{hooks.project_id}/tasks/{link['task_id']}/links/{link['id']}/refresh/"
    response = hooks.member.api("POST", url)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_a_github_refresh_sets_the_time_a_late_delivery_is_judged_by(
    hooks: Hooks, provider: responses.RequestsMock, allow_egress: None
) -> None:
    give_credential(hooks.member.user, "github")
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    # GitHub's REST answer after the merge (fields as in its pull request object).
    provider.get(
        API_PR, json={"state": "closed", "merged": True, "title": "Merged readme", "updated_at": "2019-05-15T15:22:00Z"}
    )
    assert refresh(hooks, link)["status"] == "merged"
    stored = db.session.get(TaskLink, link["id"]).provider_updated_at
    assert stored is not None and stored.isoformat().startswith("2019-05-15T15:22:00")

    late = hooks.sender.github(hook, "pull_request", github_example("pull_request.closed"))  # 15:21:18
    assert late.get_json() == {"matched": 0, "linked": 0}
    assert hooks.get_link(link)["status"] == "merged"

    reopened = github_example("pull_request.reopened")
    reopened["pull_request"]["updated_at"] = "2019-05-15T15:23:00Z"
    assert hooks.sender.github(hook, "pull_request", reopened).get_json() == {"matched": 1, "linked": 0}
    assert hooks.get_link(link)["status"] == "open"


def test_a_gitlab_refresh_understands_its_timestamps_too(
    hooks: Hooks, provider: responses.RequestsMock, allow_egress: None
) -> None:
    give_credential(hooks.member.user, "gitlab")
    hook = hooks.create("gitlab")
    link = hooks.link(MR)
    provider.get(API_MR, json={"state": "closed", "title": "MS-Viewport", "updated_at": "2024-05-02T10:00:00.000Z"})
    assert refresh(hooks, link)["status"] == "closed"
    stale = gitlab_merge_request(MR, state="opened", updated_at="2024-05-02 09:00:00 UTC")
    assert hooks.sender.gitlab(hook, "Merge Request Hook", stale).get_json() == {"matched": 0, "linked": 0}
    fresh = gitlab_merge_request(MR, state="merged", updated_at="2024-05-02 10:00:01 UTC")
    assert hooks.sender.gitlab(hook, "Merge Request Hook", fresh).get_json() == {"matched": 1, "linked": 0}
    assert hooks.get_link(link)["status"] == "merged"


def test_a_refresh_without_a_time_keeps_the_one_a_delivery_stored(
    hooks: Hooks, provider: responses.RequestsMock, allow_egress: None
) -> None:
    give_credential(hooks.member.user, "github")
    hook = hooks.create()
    link = hooks.link(EXAMPLE_PR)
    hooks.sender.github(hook, "pull_request", github_example("pull_request.closed"))
    provider.get(API_PR, json={"state": "closed", "merged": False, "title": "Closed"})
    refresh(hooks, link)
    db.session.expire_all()
    stored = db.session.get(TaskLink, link["id"]).provider_updated_at
    assert stored is not None and stored.isoformat().startswith("2019-05-15T15:21:18")
